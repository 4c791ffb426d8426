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
        self.python = Self.find("python3", in: searchPath)
        self.node = Self.find("node", in: searchPath)
    }

    static func find(_ program: String, in searchPath: String) -> String? {
        for folder in searchPath.split(separator: ":") {
            let candidate = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
