public import AviaryCore
public import AviaryStore
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle
import Subprocess
import Synchronization
import SystemPackage

/// Runs functions: warm pools of execution environments per version, cold starts on demand, idle reaping.
///
/// A `Service`: its `run()` owns every worker process (each runs as a child task of it) and stops them
/// all on shutdown. `invoke` hands an event to an idle environment of that version or starts one.
public final class FunctionRuntime: Service, Sendable {
    let settings: RuntimeSettings
    let code: CodeStore
    let logger: Logger
    /// Every invocation's outcome, per function, alias and executed version.
    public let metrics = MetricsRecorder()
    private let launches: AsyncStream<Launch>
    private let launchQueue: AsyncStream<Launch>.Continuation
    private let pools = Mutex<[PoolKey: Pool]>([:])
    private let live = Mutex<[String: ExecutionEnvironment]>([:])
    private let running = Mutex<(total: Int, perFunction: [FunctionName: Int])>((0, [:]))
    /// Aviary's own URL, once the server listens: functions' SDKs reach Lambda and CodeDeploy there.
    private let apiEndpoint = Mutex<String?>(nil)

    struct PoolKey: Hashable {
        let function: FunctionName
        let version: VersionSelector
    }

    /// The idle environments of one version, all running the configuration `revisionId` (a `$LATEST` that
    /// changed gets a new revision; environments of an older one are never used again).
    struct Pool {
        var revisionId: String
        var idle: [IdleEnvironment] = []
    }

    struct IdleEnvironment {
        let environment: ExecutionEnvironment
        let since: ContinuousClock.Instant
    }

    /// A process to start, with the listener its Runtime API is served on.
    struct Launch: Sendable {
        let environment: ExecutionEnvironment
        let executable: String
        let arguments: [String]
        let variables: [String: String]
        let workingDirectory: URL
        let scratch: URL
        let listener: any Channel
    }

    public init(settings: RuntimeSettings, code: CodeStore, logger: Logger) throws {
        self.settings = settings
        self.code = code
        self.logger = logger
        (launches, launchQueue) = AsyncStream.makeStream(of: Launch.self)
        try FileManager.default.createDirectory(at: bootstrapFolder, withIntermediateDirectories: true)
        try Data(PackageResources.python_bootstrap_py).write(to: bootstrapFolder.appendingPathComponent("bootstrap.py"))
        try Data(PackageResources.node_bootstrap_mjs).write(to: bootstrapFolder.appendingPathComponent("bootstrap.mjs"))
    }

    var bootstrapFolder: URL { settings.root.appendingPathComponent("bootstrap") }

    /// Tells functions where Aviary's API is (`AWS_ENDPOINT_URL_LAMBDA` / `_CODEDEPLOY`), so that hooks and
    /// functions calling other functions reach Aviary with an unmodified AWS SDK.
    public func setAPIEndpoint(_ url: String) {
        apiEndpoint.withLock { $0 = url }
    }

    // MARK: Service

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.reapIdleEnvironments() }
            group.addTask { await self.enforceTimeouts() }
            for await launch in launches.cancelOnGracefulShutdown() {
                group.addTask { await self.runProcess(launch) }
            }
            // Shutting down: stop every environment; their tasks end when the processes are gone.
            for environment in live.withLock({ Array($0.values) }) { environment.kill() }
            group.cancelAll()
        }
    }

    /// Stops every environment now; what they were running ends as a crash. For shutdown: the Event
    /// queue stops before the runtime and must not wait out a function's timeout.
    public func stopEnvironments() {
        for environment in live.withLock({ Array($0.values) }) { environment.kill() }
    }

    /// Checks every live environment's deadline a few times a tenth of a second: timeouts fire at most
    /// `sweepInterval` late, and invocations schedule nothing.
    private func enforceTimeouts() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: Self.sweepInterval)
            let now = ContinuousClock.now
            for environment in live.withLock({ Array($0.values) }) { environment.expireIfOverdue(now: now) }
        }
    }

    static let sweepInterval = Duration.milliseconds(20)

    private func reapIdleEnvironments() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: min(settings.idleTimeout, .seconds(1)))
            let now = ContinuousClock.now
            let expired = pools.withLock { pools in
                var expired: [ExecutionEnvironment] = []
                for (key, pool) in pools {
                    let (old, fresh) = pool.idle.reduce(into: ([IdleEnvironment](), [IdleEnvironment]())) { result, entry in
                        if now - entry.since >= settings.idleTimeout { result.0.append(entry) } else { result.1.append(entry) }
                    }
                    expired += old.map(\.environment)
                    pools[key]?.idle = fresh
                    if fresh.isEmpty { pools[key] = nil }
                }
                return expired
            }
            for environment in expired { environment.kill() }
        }
    }

    // MARK: Invoking

    /// Runs one invocation on `version` of `function` (whose configuration is `configuration`).
    ///
    /// Throttled with AWS's 429 when the function's reserved concurrency or the server's overall cap is
    /// reached.
    public func invoke(
        function: FunctionName, alias: AliasName? = nil, version: VersionSelector, configuration: FunctionConfiguration,
        reservedConcurrency: Int? = nil, invocation: Invocation
    ) async throws -> InvocationResult {
        try await withCheckedThrowingContinuation { continuation in
            invoke(
                function: function, alias: alias, version: version, configuration: configuration,
                reservedConcurrency: reservedConcurrency, invocation: invocation
            ) { continuation.resume(with: $0) }
        }
    }

    /// `invoke` for callers on an event loop that answer from a callback: with a warm environment the
    /// event is handed over and `completion` runs on the thread that receives the function's answer (the
    /// environment's event loop), without a task; a cold start runs in a task.
    public func invoke(
        function: FunctionName, alias: AliasName? = nil, version: VersionSelector, configuration: FunctionConfiguration,
        reservedConcurrency: Int? = nil, invocation: Invocation,
        completion: @escaping @Sendable (Result<InvocationResult, any Error>) -> Void
    ) {
        let call = Call(
            function: function, version: version, configuration: configuration, invocation: invocation,
            metricsKey: MetricsRecorder.Key(function: function, alias: alias, executedVersion: version),
            completion: completion)
        do {
            try acquireSlot(function, reserved: reservedConcurrency)
        } catch {
            metrics.recordThrottle(call.metricsKey)
            return completion(.failure(error))
        }
        attempt(call, number: 1)
    }

    /// One invocation on its way through `attempt` and `run`.
    private struct Call: Sendable {
        let function: FunctionName
        let version: VersionSelector
        let configuration: FunctionConfiguration
        let invocation: Invocation
        let metricsKey: MetricsRecorder.Key
        let completion: @Sendable (Result<InvocationResult, any Error>) -> Void

        var poolKey: PoolKey { PoolKey(function: function, version: version) }
    }

    /// Up to three environments are tried: a pooled one may die between being pooled and being used.
    private func attempt(_ call: Call, number: Int) {
        guard number <= 3 else {
            releaseSlot(call.function)
            return call.completion(.failure(RuntimeError("no execution environment could take the invocation")))
        }
        if let environment = takeIdle(call.poolKey, revisionId: call.configuration.revisionId) {
            return run(call, on: environment, attempt: number)
        }
        Task {
            do {
                let environment = try await startEnvironment(
                    function: call.function, version: call.version, configuration: call.configuration)
                run(call, on: environment, attempt: number)
            } catch {
                releaseSlot(call.function)
                call.completion(.failure(error))
            }
        }
    }

    private func run(_ call: Call, on environment: ExecutionEnvironment, attempt number: Int) {
        environment.invoke(
            call.invocation, timeout: .seconds(call.configuration.timeout), initTimeout: settings.initTimeout
        ) { result in
            guard let result else { return self.attempt(call, number: number + 1) }
            if !environment.isDead { self.pool(environment, key: call.poolKey) }
            if case .functionError = result.outcome {
                self.metrics.recordInvocation(call.metricsKey, duration: result.duration, failed: true)
            } else {
                self.metrics.recordInvocation(call.metricsKey, duration: result.duration, failed: false)
            }
            self.releaseSlot(call.function)
            call.completion(.success(result))
        }
    }

    /// Makes sure `count` idle environments of a version are ready before it takes traffic: starts the
    /// missing ones, waits (up to the init timeout) until their runtimes ask for work, and pools them.
    /// Returns how many are ready.
    public func prewarm(
        function: FunctionName, version: VersionSelector, configuration: FunctionConfiguration, count: Int
    ) async -> Int {
        let key = PoolKey(function: function, version: version)
        let (idle, stale) = pools.withLock { pools -> (Int, [IdleEnvironment]) in
            guard let pool = pools[key] else { return (0, []) }
            guard pool.revisionId == configuration.revisionId else {
                pools[key] = Pool(revisionId: configuration.revisionId)
                return (0, pool.idle)
            }
            return (pool.idle.filter { !$0.environment.isDead }.count, [])
        }
        for old in stale { old.environment.kill() }
        guard idle < count else { return idle }
        return await withTaskGroup(of: Bool.self) { group in
            for _ in idle..<count {
                group.addTask {
                    let environment: ExecutionEnvironment
                    do {
                        environment = try await self.startEnvironment(function: function, version: version, configuration: configuration)
                    } catch {
                        self.logger.warning("pre-warming failed", metadata: ["function": "\(function)", "version": "\(version)", "error": "\(error)"])
                        return false
                    }
                    let ready = await withTaskGroup(of: Bool?.self) { race in
                        race.addTask { await environment.waitUntilReady() }
                        race.addTask {
                            try? await Task.sleep(for: self.settings.initTimeout)
                            return nil
                        }
                        let first = await race.next() ?? nil
                        if first == nil { environment.kill() }  // timed out: the readiness wait ends with it
                        race.cancelAll()
                        return first ?? false
                    }
                    guard ready, !environment.isDead else { return false }
                    self.pool(environment, key: key)
                    return true
                }
            }
            return await group.reduce(idle) { $0 + ($1 ? 1 : 0) }
        }
    }

    private func acquireSlot(_ function: FunctionName, reserved: Int?) throws {
        try running.withLock { running in
            let current = running.perFunction[function, default: 0]
            if let reserved, current >= reserved {
                throw LambdaError.throttled(reason: "ReservedFunctionConcurrentInvocationLimitExceeded")
            }
            if running.total >= settings.maxConcurrency {
                throw LambdaError.throttled(reason: "ConcurrentInvocationLimitExceeded")
            }
            running.total += 1
            running.perFunction[function] = current + 1
        }
    }

    private func releaseSlot(_ function: FunctionName) {
        running.withLock { running in
            running.total -= 1
            let left = running.perFunction[function, default: 1] - 1
            running.perFunction[function] = left > 0 ? left : nil
        }
    }

    /// An idle environment of `key` running configuration `revisionId`, preferably one whose Runtime API
    /// is served on the calling thread's event loop: handing the event over and taking the answer back then
    /// need no thread hop. Idle environments of an older configuration (a `$LATEST` that changed) can
    /// never be used again: they are stopped here.
    private func takeIdle(_ key: PoolKey, revisionId: String) -> ExecutionEnvironment? {
        let (environment, stale) = pools.withLock { pools -> (ExecutionEnvironment?, [IdleEnvironment]) in
            guard var pool = pools.removeValue(forKey: key) else { return (nil, []) }
            guard pool.revisionId == revisionId else {
                pools[key] = Pool(revisionId: revisionId)
                return (nil, pool.idle)
            }
            defer { pools[key] = pool }
            while let index = pool.idle.lastIndex(where: { $0.environment.eventLoop.inEventLoop }) ?? pool.idle.indices.last {
                let entry = pool.idle.remove(at: index)
                if !entry.environment.isDead { return (entry.environment, []) }
            }
            return (nil, [])
        }
        for old in stale { old.environment.kill() }
        return environment
    }

    /// Puts an environment that finished an invocation (or warmed up) back among the idle ones, unless its
    /// configuration has been replaced meanwhile.
    private func pool(_ environment: ExecutionEnvironment, key: PoolKey) {
        let revisionId = environment.configuration.revisionId
        let accepted = pools.withLock { pools in
            let entry = IdleEnvironment(environment: environment, since: .now)
            guard let pool = pools[key] else {
                pools[key] = Pool(revisionId: revisionId, idle: [entry])
                return true
            }
            guard pool.revisionId == revisionId else { return false }
            pools[key]!.idle.append(entry)
            return true
        }
        if !accepted { environment.kill() }
    }

    /// Binds a Runtime API listener, prepares code, scratch folder and log stream, and queues the process.
    private func startEnvironment(
        function: FunctionName, version: VersionSelector, configuration: FunctionConfiguration
    ) async throws -> ExecutionEnvironment {
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let day = Self.streamDay()
        let stream = try LogStream(
            directory: settings.logRoot.appendingPathComponent(function.rawValue), name: "\(day)/[\(version)]\(id)")
        // The calling thread's loop: the caller (and the connection it came from) is likely to call again.
        let eventLoop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        let environment = ExecutionEnvironment(
            id: id, function: function, version: version, configuration: configuration, logStream: stream,
            eventLoop: eventLoop)
        let listener = try await ServerBootstrap(group: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(RuntimeAPIHandler(environment: environment))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress?.port ?? 0
        let codeFolder = try code.unpacked(configuration.code)
        let scratch = settings.root.appendingPathComponent("tmp").appendingPathComponent(id)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let (runtimeExecutable, runtimeArguments) = try command(for: configuration.runtime, code: codeFolder)
        // The memory cap: the data segment (heap and private mappings) limited to MemorySize, set by a shell
        // that then replaces itself with the runtime (same process, same process group).
        let executable = "/bin/sh"
        let arguments = ["-c", "ulimit -d \(configuration.memorySize * 1024) && exec \"$0\" \"$@\"", runtimeExecutable] + runtimeArguments
        let variables = environmentVariables(
            function: function, version: version, configuration: configuration, runtimeAPI: "127.0.0.1:\(port)",
            codeFolder: codeFolder, scratch: scratch, stream: stream.name)
        live.withLock { $0[id] = environment }
        launchQueue.yield(Launch(
            environment: environment, executable: executable, arguments: arguments, variables: variables,
            workingDirectory: codeFolder, scratch: scratch, listener: listener))
        return environment
    }

    /// What to start for a runtime: Aviary's bootstraps for Python and Node, the archive's own `bootstrap`
    /// for `provided*`.
    func command(for runtime: Runtime, code: URL) throws -> (String, [String]) {
        switch runtime.family {
        case .python:
            guard let python = settings.python else { throw RuntimeError("python3 is not installed on this machine") }
            return (python, ["-u", bootstrapFolder.appendingPathComponent("bootstrap.py").path])
        case .node:
            guard let node = settings.node else { throw RuntimeError("node is not installed on this machine") }
            return (node, [bootstrapFolder.appendingPathComponent("bootstrap.mjs").path])
        case .provided:
            return (code.appendingPathComponent("bootstrap").path, [])
        }
    }

    /// The process environment Lambda sets, plus the function's variables; nothing of the server's own.
    func environmentVariables(
        function: FunctionName, version: VersionSelector, configuration: FunctionConfiguration, runtimeAPI: String,
        codeFolder: URL, scratch: URL, stream: String
    ) -> [String: String] {
        let interpreterFolders = [settings.python, settings.node].compactMap { $0 }
            .map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        var path = ["/usr/local/bin", "/usr/bin", "/bin"]
        for folder in interpreterFolders where !path.contains(folder) { path.append(folder) }
        var variables: [String: String] = [
            "LANG": "en_US.UTF-8", "TZ": ":UTC", "PATH": path.joined(separator: ":"),
            "LD_LIBRARY_PATH": "/lib64:/usr/lib64:\(codeFolder.path):\(codeFolder.path)/lib",
            "TMPDIR": scratch.path, "HOME": scratch.path,
        ]
        for (key, value) in configuration.environment { variables[key] = value }
        let reserved: [String: String] = [
            "AWS_LAMBDA_RUNTIME_API": runtimeAPI,
            "_HANDLER": configuration.handler,
            "LAMBDA_TASK_ROOT": codeFolder.path,
            "LAMBDA_RUNTIME_DIR": bootstrapFolder.path,
            "AWS_LAMBDA_FUNCTION_NAME": function.rawValue,
            "AWS_LAMBDA_FUNCTION_VERSION": version.description,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(configuration.memorySize),
            "AWS_LAMBDA_LOG_GROUP_NAME": settings.scope.logGroup(function),
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": settings.scope.region,
            "AWS_DEFAULT_REGION": settings.scope.region,
        ]
        for (key, value) in reserved { variables[key] = value }
        if let endpoint = apiEndpoint.withLock({ $0 }) {
            // Lambda always hands functions credentials; Aviary's API does not check these placeholders
            // (a function's own variables win, for code that talks to real AWS).
            let defaults = [
                "AWS_ENDPOINT_URL_LAMBDA": endpoint, "AWS_ENDPOINT_URL_CODEDEPLOY": endpoint,
                "AWS_ACCESS_KEY_ID": "AVIARYLOCAL", "AWS_SECRET_ACCESS_KEY": "aviary-local", "AWS_SESSION_TOKEN": "aviary-local",
            ]
            for (key, value) in defaults where configuration.environment[key] == nil { variables[key] = value }
        }
        if configuration.runtime.family != .provided {
            variables["AWS_EXECUTION_ENV"] = "AWS_Lambda_\(configuration.runtime)"
        }
        return variables
    }

    // MARK: Processes

    private func runProcess(_ launch: Launch) async {
        let environment = launch.environment
        defer {
            live.withLock { $0[environment.id] = nil }
            launch.listener.close(promise: nil)
            try? FileManager.default.removeItem(at: launch.scratch)
        }
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .milliseconds(500))]
        var variables: [Environment.Key: String] = [:]
        for (key, value) in launch.variables {
            if let key = Environment.Key(rawValue: key) { variables[key] = value }
        }
        let output = FileDescriptorOutput.fileDescriptor(launch.environment.logStream.descriptor, closeAfterSpawningProcess: false)
        do {
            let result = try await Subprocess.run(
                .path(FilePath(launch.executable)), arguments: Arguments(launch.arguments),
                environment: .custom(variables), workingDirectory: FilePath(launch.workingDirectory.path),
                platformOptions: options, input: .none, output: output, error: output
            ) { execution in
                environment.processStarted(pid: execution.processIdentifier.value)
            }
            environment.processExited(status: Self.describe(result.terminationStatus))
        } catch {
            environment.logStream.write("Aviary could not start the runtime: \(error)\n")
            environment.processExited(status: "could not start \(launch.executable): \(error)")
        }
    }

    static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "signal: \(Self.signalName(signal))"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "killed"
        case SIGSEGV: "segmentation fault"
        case SIGABRT: "aborted"
        case SIGTERM: "terminated"
        default: "signal \(signal)"
        }
    }

    static func streamDay() -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        return String(format: "%04d/%02d/%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
    }
}

/// A failure of the runtime machinery itself (not of a function).
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
