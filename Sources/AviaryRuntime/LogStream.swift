import Foundation
import SystemPackage

/// One log stream: a file that an environment's process and Aviary both append to.
///
/// Named as CloudWatch names streams (`YYYY/MM/DD/[version]<hex id>`); one per execution environment.
public final class LogStream: Sendable {
    public let name: String
    public let path: String
    let descriptor: FileDescriptor

    init(directory: URL, name: String) throws {
        self.name = name
        let fileName = name.replacingOccurrences(of: "/", with: "-")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.path = directory.appendingPathComponent(fileName + ".log").path
        self.descriptor = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec], permissions: [.ownerReadWrite, .groupRead])
    }

    deinit { try? descriptor.close() }

    /// Appends `text` in one write.
    func write(_ text: String) {
        _ = try? descriptor.writeAll(Array(text.utf8))
    }

    /// The stream's current length in bytes: one `lseek` on the open descriptor (appends ignore its
    /// offset, so moving it is harmless).
    var size: Int64 {
        (try? descriptor.seek(offset: 0, from: .end)) ?? 0
    }

    /// The bytes in `range`, at most the last `limit` of them.
    func read(_ range: Range<Int64>, last limit: Int) -> [UInt8] {
        let start = max(range.lowerBound, range.upperBound - Int64(limit))
        let count = Int(max(0, range.upperBound - start))
        guard count > 0, let reader = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) else {
            return []
        }
        defer { try? reader.close() }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = (try? bytes.withUnsafeMutableBytes { try reader.read(fromAbsoluteOffset: start, into: $0) }) ?? 0
        return Array(bytes.prefix(read))
    }
}
