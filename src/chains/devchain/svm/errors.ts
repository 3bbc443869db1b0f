// Turns LiteSVM's transaction errors into the JSON a real Solana RPC returns
// ("AlreadyProcessed", {"InstructionError":[2,{"Custom":1}]}, ...), so clients parse them unchanged.

// LiteSVM exposes these enums as `const enum`s only (no runtime object), so the names are listed here,
// in the order of their numeric values (litesvm 1.5 internal.d.ts, which mirrors agave's enums).
const TRANSACTION_ERRORS = [
  "AccountInUse", "AccountLoadedTwice", "AccountNotFound", "ProgramAccountNotFound", "InsufficientFundsForFee",
  "InvalidAccountForFee", "AlreadyProcessed", "BlockhashNotFound", "CallChainTooDeep", "MissingSignatureForFee",
  "InvalidAccountIndex", "SignatureFailure", "InvalidProgramForExecution", "SanitizeFailure", "ClusterMaintenance",
  "AccountBorrowOutstanding", "WouldExceedMaxBlockCostLimit", "UnsupportedVersion", "InvalidWritableAccount",
  "WouldExceedMaxAccountCostLimit", "WouldExceedAccountDataBlockLimit", "TooManyAccountLocks",
  "AddressLookupTableNotFound", "InvalidAddressLookupTableOwner", "InvalidAddressLookupTableData",
  "InvalidAddressLookupTableIndex", "InvalidRentPayingAccount", "WouldExceedMaxVoteCostLimit",
  "WouldExceedAccountDataTotalLimit", "MaxLoadedAccountsDataSizeExceeded", "ResanitizationNeeded",
  "InvalidLoadedAccountsDataSizeLimit", "UnbalancedTransaction", "ProgramCacheHitMaxLimit", "CommitCancelled",
] as const;

const INSTRUCTION_ERRORS = [
  "GenericError", "InvalidArgument", "InvalidInstructionData", "InvalidAccountData", "AccountDataTooSmall",
  "InsufficientFunds", "IncorrectProgramId", "MissingRequiredSignature", "AccountAlreadyInitialized",
  "UninitializedAccount", "UnbalancedInstruction", "ModifiedProgramId", "ExternalAccountLamportSpend",
  "ExternalAccountDataModified", "ReadonlyLamportChange", "ReadonlyDataModified", "DuplicateAccountIndex",
  "ExecutableModified", "RentEpochModified", "NotEnoughAccountKeys", "AccountDataSizeChanged", "AccountNotExecutable",
  "AccountBorrowFailed", "AccountBorrowOutstanding", "DuplicateAccountOutOfSync", "InvalidError",
  "ExecutableDataModified", "ExecutableLamportChange", "ExecutableAccountNotRentExempt", "UnsupportedProgramId",
  "CallDepth", "MissingAccount", "ReentrancyNotAllowed", "MaxSeedLengthExceeded", "InvalidSeeds", "InvalidRealloc",
  "ComputationalBudgetExceeded", "PrivilegeEscalation", "ProgramEnvironmentSetupFailure", "ProgramFailedToComplete",
  "ProgramFailedToCompile", "Immutable", "IncorrectAuthority", "AccountNotRentExempt", "InvalidAccountOwner",
  "ArithmeticOverflow", "UnsupportedSysvar", "IllegalOwner", "MaxAccountsDataAllocationsExceeded",
  "MaxAccountsExceeded", "MaxInstructionTraceLengthExceeded", "BuiltinProgramsMustConsumeComputeUnits", "BorshIoError",
] as const;

/** A transaction error as Solana RPC writes it in JSON. */
export type RpcTransactionError = string | Record<string, unknown>;

/** The shapes LiteSVM's FailedTransactionMetadata.err() can return. */
type LiteSvmTransactionError =
  | number
  | { index: number; err(): number | { code: number } | { msg: string } }
  | { index: number }
  | { accountIndex: number };

export function toRpcTransactionError(error: unknown): RpcTransactionError {
  const e = error as LiteSvmTransactionError;
  if (typeof e === "number") return TRANSACTION_ERRORS[e] ?? `TransactionError(${e})`;
  if ("err" in e && typeof e.err === "function") {
    return { InstructionError: [e.index, toRpcInstructionError(e.err())] };
  }
  if ("accountIndex" in e) {
    const restricted = (error as object).constructor.name.includes("Restricted");
    const name = restricted ? "ProgramExecutionTemporarilyRestricted" : "InsufficientFundsForRent";
    return { [name]: { account_index: e.accountIndex } };
  }
  if ("index" in e) return { DuplicateInstruction: e.index };
  return String(error);
}

function toRpcInstructionError(error: number | { code: number } | { msg: string }): unknown {
  if (typeof error === "number") return INSTRUCTION_ERRORS[error] ?? `InstructionError(${error})`;
  if ("code" in error) return { Custom: error.code };
  return { BorshIoError: error.msg };
}

/** A one-line explanation, as in RPC's "Transaction simulation failed: ..." messages. */
export function describeTransactionError(error: RpcTransactionError): string {
  if (typeof error === "string") return error;
  const instruction = error.InstructionError as [number, unknown] | undefined;
  if (instruction) {
    const [index, detail] = instruction;
    const custom = (detail as { Custom?: number } | undefined)?.Custom;
    const what = custom !== undefined ? `custom program error: 0x${custom.toString(16)}` : JSON.stringify(detail);
    return `Error processing Instruction ${index}: ${what}`;
  }
  return JSON.stringify(error);
}
