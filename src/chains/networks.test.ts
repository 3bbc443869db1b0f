// The network table must agree with what x402 itself treats as real USDC, or default
// client spend controls would refuse to pay the devchain and real deployments alike.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_ASSETS as EVM_DEFAULT_ASSETS } from "@x402/evm";
import { SOLANA_DEVNET_CAIP2, SOLANA_MAINNET_CAIP2, USDC_DEVNET_ADDRESS, USDC_MAINNET_ADDRESS } from "@x402/svm";
import { EVM_NETWORK_CHAIN_ID_MAP } from "@x402/evm/v1";
import { BASE, BASE_SEPOLIA, NETWORKS, SOLANA, SOLANA_DEVNET, findNetwork } from "./networks.ts";

test("Base and Base Sepolia USDC match x402's default assets (address and EIP-712 domain)", () => {
  for (const network of [BASE, BASE_SEPOLIA]) {
    const [asset] = (EVM_DEFAULT_ASSETS as unknown as Record<string, { asset: string; name: string; version: string; decimals: number }[]>)[network.caip2] ?? [];
    assert.ok(asset, `x402 knows ${network.caip2}`);
    assert.equal(asset.asset, network.usdc.address);
    assert.equal(asset.name, network.usdc.name);
    assert.equal(asset.version, network.usdc.version);
    assert.equal(asset.decimals, network.usdc.decimals);
    assert.equal(EVM_NETWORK_CHAIN_ID_MAP[network.name as keyof typeof EVM_NETWORK_CHAIN_ID_MAP], network.chainId);
  }
});

test("Solana and Solana devnet match x402's CAIP-2 ids and USDC mints", () => {
  assert.equal(SOLANA.caip2, SOLANA_MAINNET_CAIP2);
  assert.equal(SOLANA.usdc.mint, USDC_MAINNET_ADDRESS);
  assert.equal(SOLANA_DEVNET.caip2, SOLANA_DEVNET_CAIP2);
  assert.equal(SOLANA_DEVNET.usdc.mint, USDC_DEVNET_ADDRESS);
});

test("findNetwork accepts v1 names and CAIP-2 ids, and nothing else", () => {
  for (const network of Object.values(NETWORKS)) {
    assert.equal(findNetwork(network.name), network);
    assert.equal(findNetwork(network.caip2), network);
  }
  assert.equal(findNetwork("eip155:1"), undefined);
  assert.equal(findNetwork("toString"), undefined);
});
