public import AviaryCore
public import Foundation

/// An asynchronous (`Event`) invocation waiting to run or to be retried.
public struct QueuedEvent: Sendable, Hashable {
    public let requestID: String
    public let function: FunctionName
    /// The qualifier as invoked (an alias is resolved, and its weights drawn, when the event runs).
    public let qualifier: String?
    public let payload: Data
    /// Runs so far that ended in a function error.
    public var attempts: Int
    public let enqueuedAt: Timestamp
    public var dueAt: Timestamp

    public init(
        requestID: String, function: FunctionName, qualifier: String?, payload: Data, attempts: Int = 0,
        enqueuedAt: Timestamp, dueAt: Timestamp
    ) {
        self.requestID = requestID
        self.function = function
        self.qualifier = qualifier
        self.payload = payload
        self.attempts = attempts
        self.enqueuedAt = enqueuedAt
        self.dueAt = dueAt
    }
}
