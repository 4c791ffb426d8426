public import ArgumentParser
import Foundation

/// `aviary logs FUNCTION [--follow]`: prints a function's log streams from the data folder.
public struct Logs: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Print a function's logs (one stream per execution environment), optionally following them.",
        discussion: """
            Reads <data-dir>/logs/<function>/ directly, so it works whether or not the server runs. Each line is
            prefixed with its log stream, as `aws logs tail` does.
            """)

    @Argument(help: "The function's name.")
    var function: String

    @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written (stop with Ctrl-C).")
    var follow = false

    @Option(help: "The server's data folder. (env: AVIARY_DATA_DIR, default: ./\(Serve.defaultDataDir))")
    var dataDir: String?

    public init() {}

    var folder: URL {
        let root = dataDir ?? ProcessInfo.processInfo.environment["AVIARY_DATA_DIR"] ?? Serve.defaultDataDir
        return URL(fileURLWithPath: root).appendingPathComponent("logs").appendingPathComponent(function)
    }

    public func validate() throws {
        guard !function.isEmpty, function.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ValidationError("'\(function)' is not a function name")
        }
    }

    public func run() async throws {
        var printed: [String: UInt64] = [:]
        guard FileManager.default.fileExists(atPath: folder.path) || follow else {
            throw ValidationError("no logs for function '\(function)' in \(folder.deletingLastPathComponent().path) (has it run yet?)")
        }
        repeat {
            for stream in streams() {
                let offset = printed[stream.lastPathComponent, default: 0]
                guard let handle = FileHandle(forReadingAtPath: stream.path) else { continue }
                defer { try? handle.close() }
                try handle.seek(toOffset: offset)
                let data = try handle.readToEnd() ?? Data()
                // Print whole lines only; a partial last line waits for its end.
                guard let end = data.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let text = String(decoding: data[...end], as: UTF8.self)
                let name = Self.streamName(stream)
                var output = ""
                for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                    output += "\(name) \(line)\n"
                }
                FileHandle.standardOutput.write(Data(output.utf8))
                printed[stream.lastPathComponent] = offset + UInt64(end - data.startIndex + 1)
            }
            if follow { try await Task.sleep(for: .milliseconds(250)) }
        } while follow
    }

    /// Streams oldest first.
    func streams() -> [URL] {
        let files = (try? FileManager.default.contentsOfDirectory(
            at: folder, includingPropertiesForKeys: [.creationDateKey, .contentModificationDateKey])) ?? []
        return files.filter { $0.pathExtension == "log" }.sorted { lhs, rhs in
            let left = (try? lhs.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            let right = (try? rhs.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            return left == right ? lhs.lastPathComponent < rhs.lastPathComponent : left < right
        }
    }

    /// `2026-11-22-[1]abc….log` → `2026/11/22/[1]abc…`, the stream's CloudWatch-style name.
    static func streamName(_ file: URL) -> String {
        let base = file.deletingPathExtension().lastPathComponent
        let parts = base.split(separator: "-", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return base }
        return parts.joined(separator: "/")
    }
}
