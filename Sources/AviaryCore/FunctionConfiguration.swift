/// Code and settings of `$LATEST` or of a published version (immutable once published).
public struct FunctionConfiguration: Sendable, Hashable, Codable {
    public var runtime: Runtime
    public var handler: String
    public var role: String
    public var description: String
    public var timeout: Int
    public var memorySize: Int
    public var environment: [String: String]
    public var architecture: Architecture
    public var ephemeralStorageSize: Int
    public var code: CodeArtifact
    public var lastModified: Timestamp
    /// Rotated on every change; a precondition clients may send back.
    public var revisionId: String

    public init(
        runtime: Runtime, handler: String, role: String, description: String = "",
        timeout: Int = FunctionSettings.defaultTimeout, memorySize: Int = FunctionSettings.defaultMemorySize,
        environment: [String: String] = [:], architecture: Architecture = .x86_64,
        ephemeralStorageSize: Int = FunctionSettings.defaultEphemeralStorage,
        code: CodeArtifact, lastModified: Timestamp, revisionId: String
    ) {
        self.runtime = runtime
        self.handler = handler
        self.role = role
        self.description = description
        self.timeout = timeout
        self.memorySize = memorySize
        self.environment = environment
        self.architecture = architecture
        self.ephemeralStorageSize = ephemeralStorageSize
        self.code = code
        self.lastModified = lastModified
        self.revisionId = revisionId
    }
}
