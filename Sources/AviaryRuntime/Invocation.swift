public import AviaryCore
public import NIOCore

/// One event handed to an execution environment.
public struct Invocation: Sendable {
    public let requestID: String
    public let payload: ByteBuffer
    /// What the caller invoked (an alias ARN when called through an alias): `Lambda-Runtime-Invoked-Function-Arn`.
    public let invokedFunctionARN: String
    /// Decoded `X-Amz-Client-Context` JSON, passed as `Lambda-Runtime-Client-Context`.
    public let clientContext: String?
    /// Whether the caller reads the end of the invocation's log (`LogType: Tail`); only then is where it
    /// starts and ends in the log stream looked up.
    public let keepsLogTail: Bool

    public init(
        requestID: String, payload: ByteBuffer, invokedFunctionARN: String, clientContext: String? = nil,
        keepsLogTail: Bool = false
    ) {
        self.requestID = requestID
        self.payload = payload
        self.invokedFunctionARN = invokedFunctionARN
        self.clientContext = clientContext
        self.keepsLogTail = keepsLogTail
    }
}

/// How an invocation ended, as the Invoke API reports it.
public enum InvocationOutcome: Sendable, Equatable {
    /// The handler's response bytes.
    case success(ByteBuffer)
    /// A function error: the error JSON (from the runtime, or made by Aviary for timeouts and crashes).
    case functionError(ByteBuffer)
}

/// The result of one invocation with where its log is.
public struct InvocationResult: Sendable {
    public let outcome: InvocationOutcome
    public let executedVersion: VersionSelector
    public let duration: Duration
    let logStream: LogStream
    /// The invocation's bytes in its log stream, from START to the end of REPORT, when the invocation
    /// `keepsLogTail`.
    let logRange: Range<Int64>?

    /// The end of the invocation's log (for `LogType: Tail`): empty unless the invocation `keepsLogTail`.
    public func logTail(bytes: Int) -> [UInt8] {
        logRange.map { logStream.read($0, last: bytes) } ?? []
    }
}
