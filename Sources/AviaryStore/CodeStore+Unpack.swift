public import AviaryCore
public import Foundation
import ZIPFoundation
#if canImport(Glibc)
import Glibc
#endif

extension CodeStore {
    /// The archive unpacked for execution, read-only: `<root>/unpacked/<sha256 hex>/`.
    ///
    /// Unpacked once per archive (versions with the same code share it), into a temporary folder that is
    /// renamed into place, so a crash never leaves a half-unpacked tree. Paths are re-checked while
    /// extracting: nothing lands outside the folder.
    public func unpacked(_ artifact: CodeArtifact) throws -> URL {
        guard let archive = archive(sha256: artifact.sha256) else {
            throw StoreError("code archive \(artifact.sha256) is missing from the code store")
        }
        let hex = archive.deletingPathExtension().lastPathComponent
        let destination = root.appendingPathComponent("unpacked").appendingPathComponent(hex)
        if FileManager.default.fileExists(atPath: destination.path) { return destination }
        let staging = root.appendingPathComponent("incoming").appendingPathComponent("unpack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        let zip = try Archive(url: archive, accessMode: .read)
        for entry in zip {
            let components = try ArchiveInspector.safeComponents(of: entry.path)
            let target = staging.appendingPathComponent(components.joined(separator: "/"))
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = try zip.extract(entry, to: target)
        }
        try Self.makeReadOnly(staging)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(staging.path, destination.path) != 0, !FileManager.default.fileExists(atPath: destination.path) {
            throw StoreError("could not unpack code archive \(hex): errno \(errno)")
        }
        return destination
    }

    /// Removes write permission everywhere below `folder`, keeping execute bits.
    static func makeReadOnly(_ folder: URL) throws {
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: folder.path) else { return }
        var paths = [folder.path]
        while let relative = walker.nextObject() as? String { paths.append(folder.appendingPathComponent(relative).path) }
        for path in paths.reversed() {
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFLNK else { continue }
            chmod(path, info.st_mode & 0o555)
        }
    }
}
