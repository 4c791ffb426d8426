public import AviaryCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// One execution environment: a worker process running one version's code, serving one invocation at a
/// time over its own Runtime API listener (127.0.0.1, ephemeral port).
///
/// The process writes stdout and stderr straight into the environment's log stream file, where Aviary
/// also writes the START / END / REPORT lines. Because the file is written synchronously by both, the
/// bytes between an invocation's START and its REPORT are exactly that invocation's log: no race with
/// pipe readers.
public final class ExecutionEnvironment: Sendable {
    public let id: String
    public let function: FunctionName
    public let version: VersionSelector
    public let configuration: FunctionConfiguration
    public let logStream: LogStream
    /// The event loop serving this environment's Runtime API.
    let eventLoop: any EventLoop
    private let spawnedAt: ContinuousClock.Instant

    struct InFlight {
        let invocation: Invocation
        let timeout: Duration
        /// Called once with the outcome, or nil if the environment could not take the invocation.
        let finish: @Sendable (InvocationOutcome?) -> Void
    }

    private struct State {
        var session = RuntimeSession<EventLoopPromise<Invocation?>, InFlight>()
        var processID: pid_t?
        var initDuration: Duration?
        var deadline: (requestID: String, milliseconds: Int64)?
        /// When the running invocation (or a cold start's init) runs out of time; checked by the runtime's
        /// sweeper, so no timer is scheduled and cancelled per invocation.
        var expiry: Expiry?
        var deliveredAt: ContinuousClock.Instant?
        /// Invocations that got an answer; the first one reports the cold start's init duration.
        var completed = 0
        /// `/proc/<pid>/status` and `/proc/<pid>/statm`, kept open for `Max Memory Used`.
        var statusFile: SystemPackage.FileDescriptor?
        var statmFile: SystemPackage.FileDescriptor?
        /// When `VmHWM` was last read, and the highest resident size seen, in KB.
        var peakReadAt: ContinuousClock.Instant?
        var peakKilobytes = 0
        /// Waiting for the runtime's first `/next` (true) or its death (false).
        var readyWaiters: [CheckedContinuation<Bool, Never>] = []
    }

    struct Expiry {
        let requestID: String
        let at: ContinuousClock.Instant
        let limit: Duration
        let isInit: Bool
    }

    private let state = Mutex(State())

    init(
        id: String, function: FunctionName, version: VersionSelector, configuration: FunctionConfiguration,
        logStream: LogStream, eventLoop: any EventLoop
    ) {
        self.id = id
        self.function = function
        self.version = version
        self.configuration = configuration
        self.logStream = logStream
        self.eventLoop = eventLoop
        self.spawnedAt = .now
    }

    public var isDead: Bool { state.withLock { $0.session.isDead } }

    /// Waits until the runtime has initialised and asks for work (true), or dies first (false).
    func waitUntilReady() async -> Bool {
        await withCheckedContinuation { continuation in
            let known = state.withLock { state -> Bool? in
                if state.initDuration != nil { return true }
                if state.session.isDead { return false }
                state.readyWaiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    // MARK: Invoking

    /// Runs one invocation and calls `completion` with its result, or with nil if the environment cannot
    /// take it (busy or dead), so the caller uses another. `completion` runs on the thread that ends the
    /// invocation (usually the event loop of this environment's Runtime API), or at once when refused.
    ///
    /// Enforces the function's timeout (plus `initTimeout` while the runtime has not asked for work yet):
    /// when it expires the process group is killed and the environment is dead; the next invocation
    /// starts a fresh one.
    func invoke(
        _ invocation: Invocation, timeout: Duration, initTimeout: Duration,
        completion: @escaping @Sendable (InvocationResult?) -> Void
    ) {
        let started = ContinuousClock.now
        let logStart = invocation.keepsLogTail ? logStream.size : nil
        begin(invocation, timeout: timeout, initTimeout: initTimeout) { outcome in
            completion(outcome.map { self.finished(invocation, outcome: $0, started: started, logStart: logStart) })
        }
    }

    /// Writes END and REPORT and makes the result.
    private func finished(
        _ invocation: Invocation, outcome: InvocationOutcome, started: ContinuousClock.Instant, logStart: Int64?
    ) -> InvocationResult {
        let (initDuration, pid, deliveredAt, coldStart) = state.withLock { state in
            state.completed += 1
            return (state.initDuration, state.processID, state.deliveredAt, state.completed == 1)
        }
        let duration = ContinuousClock.now - (deliveredAt ?? started)
        let milliseconds = duration.milliseconds
        var report = "REPORT RequestId: \(invocation.requestID)\tDuration: \(Self.twoDecimals(milliseconds)) ms"
            + "\tBilled Duration: \(Int(milliseconds.rounded(.up))) ms\tMemory Size: \(configuration.memorySize) MB"
            + "\tMax Memory Used: \(pid.flatMap(peakMemoryMB) ?? 0) MB\t"
        if coldStart, let initDuration { report += "Init Duration: \(Self.twoDecimals(initDuration.milliseconds)) ms\t" }
        logStream.write("END RequestId: \(invocation.requestID)\n" + report + "\n")
        return InvocationResult(
            outcome: outcome, executedVersion: version, duration: duration, logStream: logStream,
            logRange: logStart.map { $0..<logStream.size })
    }

    private func begin(
        _ invocation: Invocation, timeout: Duration, initTimeout: Duration,
        finish: @escaping @Sendable (InvocationOutcome?) -> Void
    ) {
        let inFlight = InFlight(invocation: invocation, timeout: timeout, finish: finish)
        let action = state.withLock { state in
            state.deliveredAt = nil
            return state.session.invoke(requestID: invocation.requestID, completion: inFlight)
        }
        if case .unavailable = action {
            finish(nil)
            return
        }
        // Before the runtime can see the event, so its output follows this line.
        logStream.write("START RequestId: \(invocation.requestID) Version: \(version)\n")
        switch action {
        case .deliver(let promise):
            deliver(inFlight, to: promise)
        case .wait:
            // Cold start: the runtime has `initTimeout` to ask for work, then the invocation's own timeout runs.
            state.withLock { state in
                state.expiry = Expiry(requestID: invocation.requestID, at: .now + initTimeout, limit: initTimeout, isInit: true)
            }
        case .unavailable:
            break
        }
    }

    /// Hands the event to the runtime's parked `/next` and starts the invocation's clock.
    private func deliver(_ inFlight: InFlight, to promise: EventLoopPromise<Invocation?>) {
        let requestID = inFlight.invocation.requestID
        let timeout = inFlight.timeout
        state.withLock { state in
            let now = ContinuousClock.now
            state.deadline = (requestID, Self.epochMilliseconds(after: timeout))
            state.deliveredAt = now
            state.expiry = Expiry(requestID: requestID, at: now + timeout, limit: timeout, isInit: false)
        }
        promise.succeed(inFlight.invocation)
    }

    /// Times out the running invocation (or cold start) if its limit has passed; called by the sweeper.
    func expireIfOverdue(now: ContinuousClock.Instant) {
        guard let expiry = state.withLock({ $0.expiry }), expiry.at <= now else { return }
        if expiry.isInit {
            initTimedOut(requestID: expiry.requestID, after: expiry.limit)
        } else {
            timeOut(requestID: expiry.requestID, after: expiry.limit)
        }
    }

    /// The deadline sent to the runtime with this invocation, epoch milliseconds.
    func deadlineMilliseconds(for requestID: String) -> Int64 {
        state.withLock { state in
            guard let deadline = state.deadline, deadline.requestID == requestID else { return 0 }
            return deadline.milliseconds
        }
    }

    private func initTimedOut(requestID: String, after limit: Duration) {
        let completion = state.withLock { state -> InFlight? in
            guard case .awaitingNext(let pending?) = state.session.state, pending.requestID == requestID else { return nil }
            return state.session.terminate().completion
        }
        guard let completion else { return }
        kill()
        fail(completion, message: "\(Self.isoNow()) \(requestID) Task timed out after \(Self.seconds(limit)) seconds")
    }

    private func fail(_ inFlight: InFlight, message: String) {
        logStream.write(message + "\n")
        inFlight.finish(.functionError(Self.json(["errorMessage": message])))
    }

    static func seconds(_ duration: Duration) -> String {
        twoDecimals(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    private func timeOut(requestID: String, after timeout: Duration) {
        let completion = state.withLock { state -> InFlight? in
            guard case .invoking(let pending, _) = state.session.state, pending.requestID == requestID else { return nil }
            return state.session.terminate().completion
        }
        guard let completion else { return }
        kill()
        fail(completion, message: "\(Self.isoNow()) \(requestID) Task timed out after \(Self.seconds(timeout)) seconds")
    }

    // MARK: Runtime API (called from the listener's event loop)

    func nextRequested(_ promise: EventLoopPromise<Invocation?>) {
        let (action, inFlight, waiters) = state.withLock { state in
            var waiters: [CheckedContinuation<Bool, Never>] = []
            if state.initDuration == nil {
                state.initDuration = .now - spawnedAt
                swap(&waiters, &state.readyWaiters)
            }
            let action = state.session.nextRequested(promise)
            var inFlight: InFlight?
            if case .deliver = action, case .invoking(let pending, _) = state.session.state {
                inFlight = pending.completion
            }
            return (action, inFlight, waiters)
        }
        for waiter in waiters { waiter.resume(returning: true) }
        switch action {
        case .deliver: if let inFlight { deliver(inFlight, to: promise) }
        case .park: break
        case .refuse: promise.succeed(nil)
        }
    }

    /// Returns the HTTP status for the runtime: 202, 400 (unknown request id) or 403 (out of order).
    func resultPosted(requestID: String, body: ByteBuffer, isError: Bool, errorType: String?) -> Int {
        let action = state.withLock { state in
            let action = state.session.resultPosted(requestID: requestID)
            if case .complete = action { state.expiry = nil }
            return action
        }
        switch action {
        case .complete(let inFlight):
            let outcome: InvocationOutcome =
                isError ? .functionError(Self.errorBody(body, errorType: errorType)) : .success(body)
            inFlight.finish(outcome)
            return 202
        case .invalidRequestID: return 400
        case .invalidStateTransition: return 403
        }
    }

    func responseTooLarge(requestID: String) {
        let action = state.withLock { state in
            let action = state.session.resultPosted(requestID: requestID)
            if case .complete = action { state.expiry = nil }
            return action
        }
        if case .complete(let inFlight) = action {
            inFlight.finish(.functionError(Self.json([
                "errorMessage": "Response payload size exceeded maximum allowed payload size (\(RuntimeAPIHandler.maxBodyBytes) bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            ])))
        }
    }

    func initErrorPosted(body: ByteBuffer, errorType: String?) -> Int {
        state.withLock { $0.session.initErrorPosted(body: Array(buffer: body), errorType: errorType) } ? 202 : 403
    }

    // MARK: Process lifecycle

    func processStarted(pid: pid_t) {
        state.withLock { $0.processID = pid }
    }

    /// The process is gone: fail what was in flight with the runtime's init error or `Runtime.ExitError`.
    func processExited(status: String) {
        let (terminated, initFailure, waiters) = state.withLock { state in
            state.processID = nil
            try? state.statusFile?.close()
            try? state.statmFile?.close()
            state.statusFile = nil
            state.statmFile = nil
            var waiters: [CheckedContinuation<Bool, Never>] = []
            swap(&waiters, &state.readyWaiters)
            return (state.session.terminate(), state.session.initFailure, waiters)
        }
        for waiter in waiters { waiter.resume(returning: false) }
        terminated.parked?.succeed(nil)
        guard let inFlight = terminated.completion else { return }
        let body: ByteBuffer
        if let initFailure {
            body = Self.errorBody(ByteBuffer(bytes: initFailure.body), errorType: initFailure.errorType)
        } else {
            body = Self.json([
                "errorType": "Runtime.ExitError",
                "errorMessage": "RequestId: \(inFlight.invocation.requestID) Error: Runtime exited with error: \(status)",
            ])
        }
        inFlight.finish(.functionError(body))
    }

    /// Kills the whole process group (the runtime and anything it started).
    func kill() {
        let (pid, terminated, waiters) = state.withLock { state in
            state.expiry = nil
            var waiters: [CheckedContinuation<Bool, Never>] = []
            swap(&waiters, &state.readyWaiters)
            return (state.processID, state.session.terminate(), waiters)
        }
        for waiter in waiters { waiter.resume(returning: false) }
        terminated.parked?.succeed(nil)
        if let pid { _ = Foundation.kill(-pid, SIGKILL) }
        // The session has forgotten what was in flight: it ends here, as the process's exit would end it.
        if let inFlight = terminated.completion {
            inFlight.finish(.functionError(Self.json([
                "errorType": "Runtime.ExitError",
                "errorMessage": "RequestId: \(inFlight.invocation.requestID) Error: Runtime exited with error: signal: killed",
            ])))
        }
    }

    // MARK: Helpers

    /// The error JSON callers get: the runtime's body as posted, or, when that is not a JSON object, one
    /// made from the `Lambda-Runtime-Function-Error-Type` header and the body's text.
    static func errorBody(_ body: ByteBuffer, errorType: String?) -> ByteBuffer {
        let data = Data(body.readableBytesView)
        if (try? JSONSerialization.jsonObject(with: data)) is [String: Any] { return body }
        return json([
            "errorType": errorType ?? "Runtime.Unknown",
            "errorMessage": String(decoding: data, as: UTF8.self),
        ])
    }

    static func json(_ object: [String: String]) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    static func epochMilliseconds(after duration: Duration) -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000) + duration.components.seconds * 1000
            + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// `12.34`, rounded; without `String(format:)`, which is slow on this path.
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The peak resident memory of the process, in MB. The kernel's own peak (`VmHWM`) is in
    /// `/proc/<pid>/status`, which the kernel renders whole on every read (a few percent of the server's
    /// CPU at thousands of invocations a second): it is read at most once a second, and in between the
    /// current resident size from `/proc/<pid>/statm` (a few numbers) keeps the peak up to date. Both
    /// files stay open and are re-read with one `pread`.
    private func peakMemoryMB(_ pid: pid_t) -> Int? {
        let now = ContinuousClock.now
        let (status, statm) = state.withLock { state -> (SystemPackage.FileDescriptor?, SystemPackage.FileDescriptor?) in
            if state.statmFile == nil {
                state.statmFile = try? SystemPackage.FileDescriptor.open(FilePath("/proc/\(pid)/statm"), .readOnly, options: [.closeOnExec])
            }
            guard state.peakReadAt.map({ now - $0 >= .seconds(1) }) ?? true else { return (nil, state.statmFile) }
            state.peakReadAt = now
            if state.statusFile == nil {
                state.statusFile = try? SystemPackage.FileDescriptor.open(FilePath("/proc/\(pid)/status"), .readOnly, options: [.closeOnExec])
            }
            return (state.statusFile, state.statmFile)
        }
        var kilobytes = 0
        if let status { kilobytes = Self.number(in: status, after: Array("VmHWM:".utf8)) ?? 0 }
        if let statm, let pages = Self.number(in: statm, after: [], field: 1) { kilobytes = max(kilobytes, pages * Self.pageKilobytes) }
        let peak = state.withLock { state in
            state.peakKilobytes = max(state.peakKilobytes, kilobytes)
            return state.peakKilobytes
        }
        return peak > 0 ? (peak + 1023) / 1024 : nil
    }

    static let pageKilobytes = max(1, Int(sysconf(Int32(_SC_PAGESIZE))) / 1024)

    /// The decimal number after `key` in a small `/proc` file (or, with an empty key, its `field`th
    /// space-separated number, from 0), scanned as bytes.
    static func number(in file: SystemPackage.FileDescriptor, after key: [UInt8], field: Int = 0) -> Int? {
        // `statm` is a line of a few numbers; `status` about 1.5 KB, its `VmHWM` within the first 2 KB.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: key.isEmpty ? 256 : 2048) { buffer in
            let count = (try? file.read(fromAbsoluteOffset: 0, into: UnsafeMutableRawBufferPointer(buffer))) ?? 0
            return number(in: UnsafeBufferPointer(rebasing: buffer[..<count]), after: key, field: field)
        }
    }

    static func number(in buffer: UnsafeBufferPointer<UInt8>, after key: [UInt8], field: Int) -> Int? {
        let count = buffer.count
        guard count > key.count else { return nil }
        var index = 0
        if !key.isEmpty {
            guard let start = (0...(count - key.count)).first(where: { buffer[$0..<$0 + key.count].elementsEqual(key) }) else { return nil }
            index = start + key.count
        }
        var skipped = 0
        while true {
            while index < count, buffer[index] == UInt8(ascii: " ") || buffer[index] == UInt8(ascii: "\t") { index += 1 }
            var value = 0
            var digits = 0
            while index < count, buffer[index] >= UInt8(ascii: "0"), buffer[index] <= UInt8(ascii: "9") {
                value = value * 10 + Int(buffer[index] - UInt8(ascii: "0"))
                index += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
            if skipped == field { return value }
            skipped += 1
        }
    }

    static func isoNow() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
