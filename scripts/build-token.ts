// Rebuilds contracts/*.json (ABI + bytecode) from contracts/*.sol with solc-js.
// Run by hand after editing a contract (`node --import tsx scripts/build-token.ts`); nothing compiles at start-up.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const CONTRACTS = ["DevUSDC", "Multicall3"] as const;
// paris: no PUSH0/MCOPY, so the runtime code runs on any EVM fork the devchain may pick.
const EVM_VERSION = "paris";

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "contracts");

for (const name of CONTRACTS) {
  const file = `${name}.sol`;
  const source = readFileSync(join(dir, file), "utf8");
  const input = {
    language: "Solidity",
    sources: { [file]: { content: source } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      // No metadata hash: the artifact then only changes when the code does.
      metadata: { bytecodeHash: "none" },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new Error(`solc failed on ${file}:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  }
  const contract = output.contracts[file]?.[name];
  if (!contract) throw new Error(`solc produced no contract ${name} in ${file}`);
  const artifact = {
    contractName: name,
    source: `contracts/${file}`,
    sourceSha256: createHash("sha256").update(source).digest("hex"),
    compiler: { name: "solc", version: solc.version(), evmVersion: EVM_VERSION, optimizerRuns: 200 },
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
  };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
  console.log(`${name}: ${(contract.evm.deployedBytecode.object.length / 2).toFixed(0)} bytes of runtime code`);
}
