/// An immutable snapshot of `$LATEST`, numbered.
public struct PublishedVersion: Sendable, Hashable, Codable {
    public let number: VersionNumber
    public let configuration: FunctionConfiguration
    /// The `$LATEST` RevisionId it was cut from: publishing again from the same revision is a no-op.
    public let sourceRevisionId: String

    public init(number: VersionNumber, configuration: FunctionConfiguration, sourceRevisionId: String) {
        self.number = number
        self.configuration = configuration
        self.sourceRevisionId = sourceRevisionId
    }
}
