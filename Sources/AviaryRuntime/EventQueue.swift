public import AviaryCore
public import AviaryStore
public import Foundation
public import Logging
import NIOCore
public import ServiceLifecycle
import Synchronization

/// Runs asynchronous (`Event`) invocations from their durable queue, with AWS's retry policy: a run that
/// ends in a function error is tried twice more, after one and then two retry delays (AWS: 1 and 2
/// minutes). Events stay in SQLite until they ran, so a restart resumes them.
public final class EventQueue: Service, Sendable {
    /// AWS's limit for an `Event` payload.
    public static let maxPayloadBytes = 1_048_576
    /// Runs per event: the first and AWS's two retries.
    public static let maxAttempts = 3

    let store: RegistryStore
    let runtime: FunctionRuntime
    let scope: AccountScope
    let retryDelay: Duration
    let logger: Logger
    private let pending = Mutex<[QueuedEvent]>([])
    private let doorbell = Doorbell()
    private let stopping = Mutex(false)

    public init(store: RegistryStore, runtime: FunctionRuntime, scope: AccountScope, retryDelay: Duration, logger: Logger) {
        self.store = store
        self.runtime = runtime
        self.scope = scope
        self.retryDelay = retryDelay
        self.logger = logger
    }

    /// Stores the event durably, then schedules it; when this returns the event will run, even after a restart.
    public func enqueue(function: FunctionName, qualifier: Qualifier?, payload: Data, requestID: String) async throws {
        let now = RegistryStore.systemNow()
        let event = QueuedEvent(
            requestID: requestID, function: function, qualifier: qualifier?.description, payload: payload,
            enqueuedAt: now, dueAt: now)
        try await store.events.enqueue(event)
        pending.withLock { $0.append(event) }
        doorbell.ring()
    }

    public func run() async throws {
        let stored = try await store.events.all()
        pending.withLock { $0 = stored + $0.filter { event in !stored.contains { $0.requestID == event.requestID } } }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping.withLock({ $0 }) {
                    let now = RegistryStore.systemNow()
                    let (due, next) = pending.withLock { pending in
                        let due = pending.filter { $0.dueAt <= now }
                        pending.removeAll { $0.dueAt <= now }
                        return (due, pending.map(\.dueAt).min())
                    }
                    for event in due { group.addTask { await self.execute(event) } }
                    let wait = next.map { Duration.milliseconds(max(1, $0.millisecondsSince1970 - now.millisecondsSince1970)) }
                    await doorbell.wait(upTo: min(wait ?? .seconds(60), .seconds(60)))
                }
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
            self.doorbell.ring()
            // Events running now are stopped rather than waited for (up to their functions' timeouts):
            // they stay stored and run again after the restart.
            self.runtime.stopEnvironments()
        }
    }

    private func execute(_ event: QueuedEvent) async {
        var event = event
        var metadata: Logger.Metadata = ["function": "\(event.function)", "request_id": "\(event.requestID)"]
        do {
            guard let function = store.function(event.function) else {
                logger.warning("event dropped: the function no longer exists", metadata: metadata)
                try await store.events.remove(requestID: event.requestID)
                return
            }
            let qualifier = try event.qualifier.map { raw throws(LambdaError) in try Qualifier(validating: raw) }
            let resolution = try function.resolve(qualifier, scope: scope)
            var version = resolution.version
            if let alias = resolution.alias, alias.routing != nil {
                let payload = event.payload
                version = alias.pick(
                    key: {
                        alias.sticky?.key(
                            header: { _ in nil }, event: { try? JSONSerialization.jsonObject(with: payload, options: [.fragmentsAllowed]) },
                            clientContext: { nil })
                    },
                    draw: FastRandom.unitInterval)
            }
            let configuration = function.configuration(of: version) ?? resolution.configuration
            let invocation = Invocation(
                requestID: event.requestID, payload: ByteBuffer(bytes: event.payload.isEmpty ? Data("{}".utf8) : event.payload),
                invokedFunctionARN: qualifier.map { scope.functionARN(event.function, qualifier: $0) }
                    ?? scope.functionARN(event.function))
            let result = try await runtime.invoke(
                function: event.function, alias: resolution.alias?.name, version: version, configuration: configuration,
                reservedConcurrency: function.reservedConcurrency, invocation: invocation)
            if case .success = result.outcome {
                try await store.events.remove(requestID: event.requestID)
                return
            }
            // Interrupted by the shutdown, not failed: the stored event runs again, without losing an attempt.
            if stopping.withLock({ $0 }) { return }
        } catch let error as LambdaError where error.code == .tooManyRequests {
            // Throttles are retried without using up an attempt, as AWS does.
            event.dueAt = Timestamp(millisecondsSince1970: RegistryStore.systemNow().millisecondsSince1970 + 1000)
            pending.withLock { $0.append(event) }
            doorbell.ring()
            return
        } catch let error as LambdaError where error.code == .resourceNotFound {
            logger.warning("event dropped: \(error.message)", metadata: metadata)
            try? await store.events.remove(requestID: event.requestID)
            return
        } catch {
            metadata["error"] = "\(error)"
            logger.warning("event run failed", metadata: metadata)
        }
        // A function error (or a failure to run): retry as AWS does, or give up.
        event.attempts += 1
        if event.attempts >= Self.maxAttempts {
            logger.warning("event dropped after \(event.attempts) attempts", metadata: metadata)
            try? await store.events.remove(requestID: event.requestID)
            return
        }
        let delay = retryDelay * event.attempts
        event.dueAt = Timestamp(millisecondsSince1970: RegistryStore.systemNow().millisecondsSince1970 + Int64(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000))
        do {
            try await store.events.reschedule(event)
            pending.withLock { $0.append(event) }
            doorbell.ring()
        } catch {
            logger.error("could not reschedule event", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }
}
