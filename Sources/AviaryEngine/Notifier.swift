public import AviaryCore
import AviaryStore
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// One event of a deployment, to be announced to the deployment's notification targets.
public struct DeploymentNotification: Sendable {
    public enum Event: String, Sendable, Hashable, Codable, CaseIterable {
        case started, stepChanged, awaitingApproval, approved, promoted, rolledBack, failed
    }

    public let event: Event
    /// The deployment as of the event; its `notify` targets receive it.
    public let deployment: Deployment
    /// The gate's links (announced with `awaitingApproval` only: afterwards they no longer act).
    public let links: ApprovalLinks?
    /// Both versions' health: the decisive snapshot for a rollback, the live figures otherwise.
    public let report: HealthReport?
    public let at: Timestamp

    public init(event: Event, deployment: Deployment, links: ApprovalLinks? = nil, report: HealthReport? = nil, at: Timestamp) {
        self.event = event
        self.deployment = deployment
        self.links = links
        self.report = report
        self.at = at
    }
}

/// What became of one notification to one target, for `aviary status` and `GET /v1/deployments/{id}`.
public struct NotificationDelivery: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Queued, being sent, or waiting to be retried.
        case pending
        case delivered
        /// Refused for good, out of retries, or dropped from a full queue.
        case failed
    }

    /// The target's kind and address without the URL's path and query (`slack:https://hooks.slack.com/…`).
    public let target: String
    public let event: DeploymentNotification.Event
    public internal(set) var state: State
    public internal(set) var attempts: Int
    /// The most recent failed attempt's error, kept after a later attempt succeeds.
    public internal(set) var lastError: String?
    public internal(set) var lastAttemptAt: Timestamp?
}

/// Posts deployment notifications to webhooks (Slack-compatible or generic JSON) in the background.
///
/// `send` only renders the payloads and queues them, so the engine never waits on a receiver. Each
/// target gets its messages in the order they were sent: a later event waits while an earlier one to
/// the same target is being retried, because a channel reading "promoted" before "awaiting approval"
/// misleads more than a late message does; different targets never wait on each other. A 2xx is
/// delivered; a 4xx other than 408 and 429 is the receiver refusing the message for good; anything
/// else (another status, a timeout, a refused connection) is retried after each of `retryDelays`, then
/// given up. Nothing is persisted: queued deliveries are lost with a restart.
public final class Notifier: Service, Sendable {
    /// Deliveries waiting beyond this many are dropped, oldest first: a dead receiver must not grow memory forever.
    public static let maximumQueued = 10_000
    static let deliveriesKeptPerDeployment = 100
    static let deploymentsKept = 500

    let logger: Logger
    let retryDelays: [Duration]
    let timeout: Duration
    let transport: any WebhookTransport
    let queueLimit: Int
    private let state = Mutex(State())
    /// Targets whose queue just became non-empty: `run()` starts one worker for each.
    private let ready: AsyncStream<String>
    private let readyContinuation: AsyncStream<String>.Continuation

    public convenience init(
        logger: Logger, retryDelays: [Duration] = [.seconds(1), .seconds(5), .seconds(30), .seconds(120)],
        timeout: Duration = .seconds(10), transport: (any WebhookTransport)? = nil
    ) {
        self.init(logger: logger, retryDelays: retryDelays, timeout: timeout, transport: transport, maximumQueued: Self.maximumQueued)
    }

    init(logger: Logger, retryDelays: [Duration], timeout: Duration, transport: (any WebhookTransport)?, maximumQueued: Int) {
        self.logger = logger
        self.retryDelays = retryDelays
        self.timeout = timeout
        self.transport = transport ?? URLSessionTransport()
        self.queueLimit = maximumQueued
        (ready, readyContinuation) = AsyncStream.makeStream(of: String.self)
    }

    /// Queues one delivery of `notification` per target of its deployment; returns at once.
    public func send(_ notification: DeploymentNotification) {
        let targets = notification.deployment.notify
        guard !targets.isEmpty else { return }
        var bodies: [NotificationTarget.Kind: Data] = [:]
        for kind in Set(targets.map(\.kind)) { bodies[kind] = NotificationPayload.render(notification, as: kind) }
        let (start, dropped) = state.withLock { state -> ([String], [Job]) in
            var start: [String] = []
            for target in targets {
                let job = Job(
                    sequence: state.nextSequence, deployment: notification.deployment.id, event: notification.event,
                    target: target, body: bodies[target.kind]!)
                state.nextSequence += 1
                state.record(job)
                state.queues[job.key, default: []].append(job)
                state.queued += 1
                if state.busy.insert(job.key).inserted { start.append(job.key) }
            }
            var dropped: [Job] = []
            while state.queued > queueLimit, let job = state.dropOldest() {
                state.update(job) {
                    $0.state = .failed
                    $0.lastError = "dropped: more than \(queueLimit) deliveries were waiting"
                }
                dropped.append(job)
            }
            return (start, dropped)
        }
        for job in dropped {
            logger.warning("notification dropped: too many deliveries waiting", metadata: job.metadata)
        }
        for key in start { readyContinuation.yield(key) }
    }

    /// The deliveries of `deployment`'s notifications, oldest first (the most recent 100).
    public func deliveries(of deployment: DeploymentID) -> [NotificationDelivery] {
        state.withLock { $0.records[deployment]?.map(\.delivery) ?? [] }
    }

    // MARK: Service

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for await key in ready.cancelOnGracefulShutdown() {
                group.addTask { await self.drain(key) }
            }
            group.cancelAll()
        }
    }

    /// Delivers the target's queued jobs one after the other until its queue is empty.
    private func drain(_ key: String) async {
        while !Task.isCancelled, let job = state.withLock({ $0.take(key) }) {
            await deliver(job)
        }
    }

    private func deliver(_ job: Job) async {
        guard let url = URL(string: job.target.url) else {
            note(job, attempts: 0, error: "not a valid URL", state: .failed)
            return
        }
        var attempt = 0
        while true {
            attempt += 1
            let verdict = Verdict(await post(url, job.body))
            guard !Task.isCancelled else { return }
            switch verdict {
            case .delivered:
                note(job, attempts: attempt, error: nil, state: .delivered)
                return
            case .refused(let error):
                note(job, attempts: attempt, error: error, state: .failed)
                return
            case .retry(let error) where attempt > retryDelays.count:
                note(job, attempts: attempt, error: error, state: .failed)
                return
            case .retry(let error):
                note(job, attempts: attempt, error: error, state: .pending)
                logger.debug("notification will be retried", metadata: job.metadata.merging(["error": "\(error)"]) { $1 })
                try? await Task.sleep(for: retryDelays[attempt - 1])
            }
        }
    }

    /// One POST, given up after `timeout` even if the transport does not give up by itself.
    private func post(_ url: URL, _ body: Data) async -> Result<Int, any Error> {
        let (transport, timeout) = (transport, timeout)
        return await withTaskGroup(of: Result<Int, any Error>?.self) { group in
            group.addTask {
                do {
                    return .success(try await transport.post(url: url, body: body, timeout: timeout))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                return .failure(WebhookFailure("timed out after \(timeout)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(CancellationError())
        }
    }

    /// Records the outcome of an attempt; a delivery given up is logged here, once.
    private func note(_ job: Job, attempts: Int, error: String?, state final: NotificationDelivery.State) {
        let time = RegistryStore.systemNow()
        state.withLock { state in
            state.update(job) { delivery in
                delivery.state = final
                delivery.attempts = attempts
                delivery.lastAttemptAt = attempts > 0 ? time : nil
                if let error { delivery.lastError = error }
            }
        }
        if final == .failed {
            logger.warning(
                "notification could not be delivered",
                metadata: job.metadata.merging(["attempts": "\(attempts)", "error": "\(error ?? "")"]) { $1 })
        }
    }
}

extension Notifier {
    /// One message to one target.
    struct Job: Sendable {
        let sequence: Int
        let deployment: DeploymentID
        let event: DeploymentNotification.Event
        let target: NotificationTarget
        let body: Data

        /// Messages to one URL are delivered in order.
        var key: String { target.url }

        var metadata: Logger.Metadata {
            ["deployment_id": "\(deployment)", "target": "\(target.redacted)", "event": "\(event.rawValue)"]
        }
    }

    enum Verdict {
        case delivered
        case refused(String)
        case retry(String)

        init(_ result: Result<Int, any Error>) {
            switch result {
            case .success(let status) where (200..<300).contains(status):
                self = .delivered
            case .success(let status) where (400..<500).contains(status) && status != 408 && status != 429:
                self = .refused("HTTP \(status) (not retried: the receiver refused the message)")
            case .success(let status):
                self = .retry("HTTP \(status)")
            case .failure(let error):
                self = .retry("\(error)")
            }
        }
    }

    struct State {
        var nextSequence = 0
        var queues: [String: [Job]] = [:]
        /// Targets with a worker delivering their queue.
        var busy: Set<String> = []
        var queued = 0
        var records: [DeploymentID: [(sequence: Int, delivery: NotificationDelivery)]] = [:]
        /// Deployments with records, oldest first, so that the oldest are forgotten first.
        var recorded: [DeploymentID] = []

        mutating func record(_ job: Job) {
            if records[job.deployment] == nil {
                recorded.append(job.deployment)
                if recorded.count > Notifier.deploymentsKept { records[recorded.removeFirst()] = nil }
            }
            let delivery = NotificationDelivery(
                target: job.target.redacted, event: job.event, state: .pending, attempts: 0, lastError: nil, lastAttemptAt: nil)
            records[job.deployment, default: []].append((job.sequence, delivery))
            if records[job.deployment]!.count > Notifier.deliveriesKeptPerDeployment { records[job.deployment]!.removeFirst() }
        }

        /// Changes the record of `job`, unless it has been forgotten already.
        mutating func update(_ job: Job, _ change: (inout NotificationDelivery) -> Void) {
            guard let index = records[job.deployment]?.firstIndex(where: { $0.sequence == job.sequence }) else { return }
            change(&records[job.deployment]![index].delivery)
        }

        /// The next job of `key`'s queue; when it is empty the target's worker ends (and a new one is
        /// started by the next `send`).
        mutating func take(_ key: String) -> Job? {
            guard let job = queues[key]?.first else {
                queues[key] = nil
                busy.remove(key)
                return nil
            }
            queues[key]!.removeFirst()
            queued -= 1
            return job
        }

        /// Removes the job queued the longest, across all targets.
        mutating func dropOldest() -> Job? {
            guard let key = queues.min(by: { ($0.value.first?.sequence ?? .max) < ($1.value.first?.sequence ?? .max) })?.key,
                let job = queues[key]?.first
            else { return nil }
            queues[key]!.removeFirst()
            queued -= 1
            return job
        }
    }
}

extension NotificationTarget {
    /// The kind and the URL up to its host and port: webhook URLs carry their secret in the path or
    /// query (Slack's do), and status output and logs must not hand it out.
    public var redacted: String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "\(kind.rawValue):…"
        }
        let port = components.port.map { ":\($0)" } ?? ""
        let hidden = [components.percentEncodedQuery, components.percentEncodedFragment].contains { $0 != nil }
        let rest = hidden || !components.percentEncodedPath.isEmpty ? "/…" : ""
        return "\(kind.rawValue):\(scheme)://\(host)\(port)\(rest)"
    }
}
