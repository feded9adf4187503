// AwsError and the errors every service shares; protocol/ serialises them, everything throws them.

export interface AwsErrorOptions {
  /** HTTP status; 400 unless the model marks the shape as a fault. protocol/ fills it from the model when unset. */
  status?: number;
  cause?: unknown;
}

export class AwsError extends Error {
  readonly status: number | undefined;

  constructor(
    /** The bare error shape name, sent as `__type` and `X-Amzn-ErrorType`. */
    readonly code: string,
    message: string,
    options: AwsErrorOptions = {},
  ) {
    // An AwsError is an answer to the caller, never shown with a stack, and capturing one was a measured
    // 15–20 µs of each error response under load; a cause keeps its own stack for the log.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = code;
    this.status = options.status;
  }
}

// Errors no service model declares: AWS's common protocol errors, all 400 but the internal ones.

export const serializationError = (message: string): AwsError => new AwsError("SerializationException", message);

// AWS answers an unknown target with no message; secretslite says what was wrong, naming services as users know them.
export const unknownOperation = (message = ""): AwsError => new AwsError("UnknownOperationException", message);

export const missingAuthenticationToken = (): AwsError =>
  new AwsError("MissingAuthenticationTokenException", "Request is missing Authentication Token");

export const incompleteSignature = (message: string): AwsError => new AwsError("IncompleteSignatureException", message);

export const invalidSignature = (message: string): AwsError => new AwsError("InvalidSignatureException", message);

export const unrecognizedClient = (): AwsError =>
  new AwsError("UnrecognizedClientException", "The security token included in the request is invalid.");

/** Session credentials past their expiration (boto/boto3#1127, KMS Decrypt). */
export const expiredToken = (): AwsError => new AwsError("ExpiredTokenException", "The security token included in the request is expired");

/** `messages` are AWS's per-member sentences; AWS caps the list it reports at 10. */
export const validationError = (messages: readonly string[]): AwsError => {
  const shown = messages.slice(0, 10);
  const count = messages.length;
  return new AwsError(
    "ValidationException",
    `${count} validation error${count === 1 ? "" : "s"} detected: ${shown.join("; ")}`,
  );
};

export const requestEntityTooLarge = (limitBytes: number): AwsError =>
  new AwsError("RequestEntityTooLargeException", `Request body exceeds the limit of ${limitBytes} bytes.`, {
    status: 413,
  });

export const internalFailure = (cause: unknown): AwsError =>
  new AwsError("InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", {
    status: 500,
    cause,
  });
