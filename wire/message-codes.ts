// The protocol's message type bytes and magic numbers, named once (PostgreSQL's protocol.h and pqcomm.h),
// so that no other module compares against a bare character or hex literal.

/** Type bytes of frontend (client -> server) messages. */
export const FrontendCode = {
  Bind: 0x42, // 'B'
  Close: 0x43, // 'C'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyFail: 0x66, // 'f'
  Describe: 0x44, // 'D'
  Execute: 0x45, // 'E'
  Flush: 0x48, // 'H'
  FunctionCall: 0x46, // 'F'
  Parse: 0x50, // 'P'
  /** PasswordMessage, SASLInitialResponse and SASLResponse share one type byte; the auth exchange tells them apart. */
  Password: 0x70, // 'p'
  Query: 0x51, // 'Q'
  Sync: 0x53, // 'S'
  Terminate: 0x58, // 'X'
} as const;

/** Type bytes of backend (server -> client) messages. */
export const BackendCode = {
  Authentication: 0x52, // 'R'
  BackendKeyData: 0x4b, // 'K'
  BindComplete: 0x32, // '2'
  CloseComplete: 0x33, // '3'
  CommandComplete: 0x43, // 'C'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyInResponse: 0x47, // 'G'
  CopyOutResponse: 0x48, // 'H'
  DataRow: 0x44, // 'D'
  EmptyQueryResponse: 0x49, // 'I'
  ErrorResponse: 0x45, // 'E'
  NoData: 0x6e, // 'n'
  NoticeResponse: 0x4e, // 'N'
  NotificationResponse: 0x41, // 'A'
  ParameterDescription: 0x74, // 't'
  ParameterStatus: 0x53, // 'S'
  ParseComplete: 0x31, // '1'
  PortalSuspended: 0x73, // 's'
  ReadyForQuery: 0x5a, // 'Z'
  RowDescription: 0x54, // 'T'
} as const;

/** The Int32 code that opens an untyped startup-phase packet (a protocol version or a special request). */
export const StartupCode = {
  Protocol3: 196608, // 3.0
  CancelRequest: 80877102,
  SSLRequest: 80877103,
  GSSENCRequest: 80877104,
} as const;

/** The single byte that answers SSLRequest or GSSENCRequest (not a framed message). */
export const EncryptionAnswer = {
  Accepted: 0x53, // 'S'
  Refused: 0x4e, // 'N'
} as const;

/** The Int32 that says which Authentication message an 'R' is. */
export const AuthRequest = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Which object a Describe or Close names. */
export const TargetKind = {
  Statement: 0x53, // 'S'
  Portal: 0x50, // 'P'
} as const;

/** Field type bytes of ErrorResponse and NoticeResponse. */
export const ErrorField = {
  Severity: 0x53, // 'S', localized
  SeverityNonLocalized: 0x56, // 'V'
  Code: 0x43, // 'C'
  Message: 0x4d, // 'M'
  Detail: 0x44, // 'D'
  Hint: 0x48, // 'H'
  Position: 0x50, // 'P'
} as const;

/** ReadyForQuery's transaction status: idle, in a transaction block, in a failed transaction block. */
export type TxStatus = 'I' | 'T' | 'E';

/** Format codes of Bind parameters and result columns. */
export const FormatCode = { Text: 0, Binary: 1 } as const;

/** A type byte as the character the protocol documentation uses, for messages and logs. */
export const codeChar = (code: number): string => String.fromCharCode(code);
