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

    /// The stream's current length in bytes.
    var size: Int64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// Everything written since `offset`.
    func read(from offset: Int64) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(max(0, offset)))
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
