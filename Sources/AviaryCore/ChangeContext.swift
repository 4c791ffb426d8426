/// Time and identifiers a change needs, passed in so Core stays free of clocks and randomness.
public struct ChangeContext: Sendable {
    public let now: Timestamp
    private let makeRevisionId: @Sendable () -> String

    public init(now: Timestamp, makeRevisionId: @escaping @Sendable () -> String) {
        self.now = now
        self.makeRevisionId = makeRevisionId
    }

    /// A fresh `RevisionId`.
    public func newRevisionId() -> String { makeRevisionId() }
}
