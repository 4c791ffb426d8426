public import AviaryCore
public import Foundation

/// Where the runtime keeps its files and how long environments may take and live.
public struct RuntimeSettings: Sendable {
    /// `<data-dir>/runtime`: bootstraps and per-environment scratch folders.
    public var root: URL
    /// `<data-dir>/logs`: one folder per function, one file per log stream.
    public var logRoot: URL
    public var scope: AccountScope
    /// How long a runtime may take from spawn to its first `/next` (AWS: 10 s).
    public var initTimeout: Duration
    /// Idle environments older than this are stopped.
    public var idleTimeout: Duration
    /// Invocations running at once across all functions (AWS's account default: 1000).
    public var maxConcurrency: Int
    /// Interpreters for `python3.*` and `nodejs*` functions (absolute paths).
    public var python: String?
    public var node: String?

    public init(
        dataDirectory: URL, scope: AccountScope, initTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(300),
        maxConcurrency: Int = 1000,
        searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    ) {
        self.root = dataDirectory.appendingPathComponent("runtime")
        self.logRoot = dataDirectory.appendingPathComponent("logs")
        self.scope = scope
        self.initTimeout = initTimeout
        self.idleTimeout = idleTimeout
        self.maxConcurrency = maxConcurrency
        self.python = Self.find("python3", in: searchPath).map(Self.realPython)
        self.node = Self.find("node", in: searchPath)
    }

    /// The interpreter itself when `python3` on the PATH is a wrapper (pyenv's shim is a bash script that
    /// costs ~70 ms per start): asks it once for `sys.executable`.
    static func realPython(_ candidate: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: candidate)
        process.arguments = ["-c", "import sys; print(sys.executable)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return candidate }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && FileManager.default.isExecutableFile(atPath: path) ? path : candidate
    }

    static func find(_ program: String, in searchPath: String) -> String? {
        for folder in searchPath.split(separator: ":") {
            let candidate = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
