public import AviaryCore
public import Foundation
import Crypto

/// Content-addressed storage for code archives: `<root>/<2 hex>/<64 hex>.zip`, named by SHA-256.
///
/// An archive is checked (see `ArchiveInspector`) before it is stored; identical uploads share one file.
public struct CodeStore: Sendable {
    public let root: URL

    /// AWS's limit for a zip uploaded directly in the request.
    public static let maxZippedBytes = 52_428_800

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root.appendingPathComponent("incoming"), withIntermediateDirectories: true)
    }

    /// Checks and stores `zip`, returning its `CodeSha256` and size.
    public func ingest(_ zip: Data) throws -> CodeArtifact {
        guard zip.count <= Self.maxZippedBytes else {
            throw LambdaError(.requestEntityTooLarge, "Zipped size must be smaller than \(Self.maxZippedBytes) bytes")
        }
        let digest = SHA256.hash(data: zip)
        let artifact = CodeArtifact(sha256: Data(digest).base64EncodedString(), size: zip.count)
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        let destination = url(forHex: hex)
        if FileManager.default.fileExists(atPath: destination.path) { return artifact }

        let incoming = root.appendingPathComponent("incoming").appendingPathComponent(UUID().uuidString + ".zip")
        try zip.write(to: incoming, options: .atomic)
        defer { try? FileManager.default.removeItem(at: incoming) }
        try ArchiveInspector.check(zipAt: incoming)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(incoming.path, destination.path) != 0, !FileManager.default.fileExists(atPath: destination.path) {
            throw StoreError("could not store code archive \(hex): errno \(errno)")
        }
        return artifact
    }

    /// Where the archive with this `CodeSha256` lives, or nil if it is not stored (or the value is malformed).
    public func archive(sha256: String) -> URL? {
        guard let data = Data(base64Encoded: sha256), data.count == 32 else { return nil }
        let destination = url(forHex: data.map { String(format: "%02x", $0) }.joined())
        return FileManager.default.fileExists(atPath: destination.path) ? destination : nil
    }

    func url(forHex hex: String) -> URL {
        root.appendingPathComponent(String(hex.prefix(2))).appendingPathComponent(hex + ".zip")
    }
}
