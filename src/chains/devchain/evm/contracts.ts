// The devchain's EVM contracts: compiled runtime code (from contracts/*.json, built by
// scripts/build-token.ts) and the addresses it is installed at, which are Base's real ones.
import { readFileSync } from "node:fs";
import { parseAbi, type Hex } from "viem";
import { BASE } from "../../networks.ts";
import { packageFile } from "../../../paths.ts";

export const USDC_ADDRESS = BASE.usdc.address;
/** Multicall3's canonical address; x402's facilitator calls it to explain failed simulations. */
export const MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11" as const;

/** Storage slots of contracts/DevUSDC.sol that funding writes directly (no minter exists). */
export const DEV_USDC_SLOTS = { balances: 0n, totalSupply: 2n } as const;

/** The FiatToken functions retouch and its tests call, typed for viem. */
export const USDC_ABI = parseAbi([
  "function name() view returns (string)",
  "function symbol() view returns (string)",
  "function version() view returns (string)",
  "function decimals() view returns (uint8)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address account) view returns (uint256)",
  "function transfer(address to, uint256 value) returns (bool)",
  "function DOMAIN_SEPARATOR() view returns (bytes32)",
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
]);

interface Artifact {
  contractName: string;
  sourceSha256: string;
  deployedBytecode: Hex;
}

/** Reads a committed artifact; the runtime code is what gets installed with setCode. */
export function loadArtifact(name: "DevUSDC" | "Multicall3"): Artifact {
  const url = packageFile(`contracts/${name}.json`);
  return JSON.parse(readFileSync(url, "utf8")) as Artifact;
}
