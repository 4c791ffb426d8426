public import AviaryCore
public import AviaryStore
public import Foundation
public import Logging
import NIOCore
public import ServiceLifecycle
import Synchronization

/// Runs asynchronous (`Event`) invocations from their durable queue, with AWS's retry policy: a run that
/// ends in a function error is tried twice more (or as the version's `EventInvokeConfig` says), after one
/// and then two retry delays (AWS: 1 and 2 minutes); an event older than its maximum age (6 hours by
/// default) is dropped; destinations get Lambda's record. Events stay in SQLite until they ran, so a
/// restart resumes them.
public final class EventQueue: Service, Sendable {
    /// AWS's limit for an `Event` payload.
    public static let maxPayloadBytes = 1_048_576
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
        // The version's or alias's `EventInvokeConfig`, and what the last run gave, for destinations.
        var config: EventInvokeConfig?
        var lastRun: (version: VersionSelector, outcome: InvocationOutcome)?
        do {
            guard let function = store.function(event.function) else {
                logger.warning("event dropped: the function no longer exists", metadata: metadata)
                try await store.events.remove(requestID: event.requestID)
                return
            }
            let qualifier = try event.qualifier.map { raw throws(LambdaError) in try Qualifier(validating: raw) }
            config = function.eventInvokeConfigs[LambdaFunction.eventInvokeKey(qualifier)]
            let age = RegistryStore.systemNow().millisecondsSince1970 - event.enqueuedAt.millisecondsSince1970
            let maximumAge = config?.maximumAgeSeconds ?? EventInvokeConfig.defaultMaximumAge
            if age > Int64(maximumAge) * 1000 {
                logger.warning("event dropped: older than its maximum age of \(maximumAge) s", metadata: metadata)
                try await store.events.remove(requestID: event.requestID)
                await deliverRecord(to: config?.onFailure, of: event, condition: "EventAgeExceeded", run: nil)
                return
            }
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
            lastRun = (version, result.outcome)
            if case .success = result.outcome {
                try await store.events.remove(requestID: event.requestID)
                event.attempts += 1
                await deliverRecord(to: config?.onSuccess, of: event, condition: "Success", run: lastRun)
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
        // A function error (or a failure to run): retry as configured (AWS: twice), or give up.
        event.attempts += 1
        if event.attempts > config?.retries ?? EventInvokeConfig.defaultRetries {
            logger.warning("event dropped after \(event.attempts) attempts", metadata: metadata)
            try? await store.events.remove(requestID: event.requestID)
            await deliverRecord(to: config?.onFailure, of: event, condition: "RetriesExhausted", run: lastRun)
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

    /// Sends Lambda's destination record (an `Event` invocation of the destination function, queued as
    /// durably as any) when the event's configuration names a destination for what happened.
    private func deliverRecord(
        to destination: String?, of event: QueuedEvent, condition: String, run: (version: VersionSelector, outcome: InvocationOutcome)?
    ) async {
        guard let destination else { return }
        let metadata: Logger.Metadata = ["function": "\(event.function)", "request_id": "\(event.requestID)", "destination": "\(destination)"]
        do {
            let target = try FunctionIdentifier(parsing: destination, scope: scope)
            let record = Self.destinationRecord(
                for: event, functionARN: scope.functionARN(event.function, qualifier: event.qualifier ?? VersionSelector.latestName),
                condition: condition, run: run, at: Date())
            try await enqueue(function: target.name, qualifier: target.qualifier, payload: record, requestID: FastRandom.uuid())
        } catch {
            logger.error("could not send the destination record", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Lambda's record for asynchronous invocation destinations.
    static func destinationRecord(
        for event: QueuedEvent, functionARN: String, condition: String,
        run: (version: VersionSelector, outcome: InvocationOutcome)?, at date: Date
    ) -> Data {
        func json(_ data: Data) -> Any {
            (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) ?? String(decoding: data, as: UTF8.self)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var record: [String: Any] = [
            "version": "1.0",
            "timestamp": formatter.string(from: date),
            "requestContext": [
                "requestId": event.requestID, "functionArn": functionARN, "condition": condition,
                "approximateInvokeCount": event.attempts,
            ] as [String: Any],
            "requestPayload": event.payload.isEmpty ? [String: Any]() : json(event.payload),
        ]
        if let run {
            var context: [String: Any] = ["statusCode": 200, "executedVersion": run.version.description]
            switch run.outcome {
            case .success(let body):
                record["responsePayload"] = json(Data(body.readableBytesView))
            case .functionError(let body):
                context["functionError"] = "Unhandled"
                record["responsePayload"] = json(Data(body.readableBytesView))
            }
            record["responseContext"] = context
        }
        return (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
