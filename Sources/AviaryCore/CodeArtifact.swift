/// A checked code archive held by the code store, identified by its SHA-256.
public struct CodeArtifact: Sendable, Hashable, Codable {
    /// Base64 of the SHA-256 of the zip bytes: AWS's `CodeSha256`.
    public let sha256: String
    /// Size of the zip in bytes: AWS's `CodeSize`.
    public let size: Int

    public init(sha256: String, size: Int) {
        self.sha256 = sha256
        self.size = size
    }
}
