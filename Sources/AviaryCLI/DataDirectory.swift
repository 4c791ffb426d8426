import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The server's data folder, held with an exclusive lock so two servers never share one database.
final class DataDirectory: Sendable {
    let url: URL
    private let lockDescriptor: Int32

    var databasePath: String { url.appendingPathComponent("aviary.sqlite").path }
    var codeRoot: URL { url.appendingPathComponent("code") }
    /// The secret approval links are signed with (created on first use, owner-only).
    var approvalSecretPath: URL { url.appendingPathComponent("approval-secret") }

    private init(url: URL, lockDescriptor: Int32) {
        self.url = url
        self.lockDescriptor = lockDescriptor
    }

    static func open(_ url: URL) throws -> DataDirectory {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let lockPath = url.appendingPathComponent("aviary.lock").path
        let descriptor = Glibc.open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DataDirectoryError("cannot open \(lockPath): errno \(errno)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw DataDirectoryError("another aviary server is using \(url.path); stop it or choose another --data-dir")
        }
        return DataDirectory(url: url, lockDescriptor: descriptor)
    }

    deinit { close(lockDescriptor) }
}

struct DataDirectoryError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
