@testable import AviaryCore
import AviaryEngine
@testable import AviaryRuntime
import AviaryStore
import Foundation
import Logging
import Synchronization

/// A time source the test moves by hand.
final class ManualClock: Sendable {
    private let milliseconds = Mutex<Int64>(1_700_000_000_000)
    var now: Timestamp { Timestamp(millisecondsSince1970: milliseconds.withLock { $0 }) }
    func advance(seconds: Double) { milliseconds.withLock { $0 += Int64(seconds * 1000) } }
}

/// A store with `orders` (versions 1–3, alias `live` → 1), the runtime (no process is started: the
/// tests report invocations to its metrics recorder as finished invocations would) and an engine on a
/// manual clock.
struct EngineHarness {
    let folder: URL
    let store: RegistryStore
    let runtime: FunctionRuntime
    let clock: ManualClock
    let engine: DeploymentEngine
    let function = FunctionName(trusted: "orders")
    let live = AliasName(trusted: "live")

    init(folder: URL, clock: ManualClock = ManualClock(), seed: Bool = true) async throws {
        self.folder = folder
        self.clock = clock
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try RegistryStore.open(path: folder.appendingPathComponent("aviary.sqlite").path, now: { clock.now })
        let code = try CodeStore(root: folder.appendingPathComponent("code"))
        runtime = try FunctionRuntime(
            settings: RuntimeSettings(dataDirectory: folder, scope: AccountScope()), code: code, logger: Logger(label: "test"))
        let events = EventQueue(store: store, runtime: runtime, scope: AccountScope(), retryDelay: .seconds(60), logger: Logger(label: "test"))
        engine = DeploymentEngine(
            store: store, runtime: runtime, events: events, scope: AccountScope(), logger: Logger(label: "test"),
            now: { clock.now }, tickInterval: .milliseconds(5))
        if seed { try await self.seed() }
    }

    private func seed() async throws {
        try await seed(function)
    }

    /// A function with versions 1–3 and `live` → 1.
    func seed(_ function: FunctionName) async throws {
        let settings = FunctionSettings(runtime: "python3.12", handler: "index.handler", role: "arn:aws:iam::123456789012:role/r")
        let live = live
        _ = try await store.create(function) { context in
            var created = try LambdaFunction.create(
                name: function, settings: settings, code: CodeArtifact(sha256: "djE=", size: 1), publish: true, context: context
            ).function
            for marker in ["djI=", "djM="] {
                _ = try created.updateCode(CodeArtifact(sha256: marker, size: 2), architectures: nil, expectedRevisionId: nil, publish: true, context: context)
            }
            _ = try created.createAlias(name: live, functionVersion: "1", description: nil, weights: nil, scope: AccountScope(), context: context)
            return (created, ())
        }
    }

    var alias: Alias? { store.function(function)?.aliases[live] }

    func request(to version: Int = 2, strategy: String = "canary:10%:1m", hooks: Hooks = Hooks(), health: HealthPolicy = .standard) throws -> DeploymentRequest {
        DeploymentRequest(
            function: function, alias: live, toVersion: VersionNumber(version), strategy: try Strategy.parse(strategy),
            health: health, hooks: hooks, prewarm: 0, actor: "test")
    }

    func alias(of function: FunctionName) -> Alias? { store.function(function)?.aliases[live] }

    /// `count` finished invocations of the alias on `version`, as the runtime records them.
    func invocations(_ count: Int, version: Int, failed: Bool = false, milliseconds: Double = 5, of function: FunctionName? = nil) {
        let key = MetricsRecorder.Key(function: function ?? self.function, alias: live, executedVersion: .published(VersionNumber(version)))
        for _ in 0..<count { runtime.metrics.recordInvocation(key, duration: .milliseconds(milliseconds), failed: failed) }
    }

    /// Polls until `condition` holds (the engine acts on its own task); false after `timeout`.
    func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return try await condition()
    }

    func status(_ id: DeploymentID) async throws -> DeploymentStatus? {
        try await engine.deployment(id)?.0.status
    }

    /// Runs the engine while `body` runs, then stops it.
    func running<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
