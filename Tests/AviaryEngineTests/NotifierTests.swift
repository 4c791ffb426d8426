@testable import AviaryCore
@testable import AviaryEngine
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct NotifierTests {
    // MARK: Payloads

    @Test func slackMessageAtAGateCarriesTheSummaryTheDetailsAndBothButtons() throws {
        let notification = DeploymentNotification(
            event: .awaitingApproval, deployment: try gated(), links: links, report: report(finding: nil), at: time)
        let message = try json(NotificationPayload.render(notification, as: .slack))

        let text = try #require(message["text"] as? String)
        #expect(text.hasPrefix(":hourglass: orders:live 1 → 2 awaiting approval (10% on v2)"))
        #expect(text.contains("Approve: <\(links.approve)>"))
        #expect(text.contains("Roll back: <\(links.rollback)>"))

        let blocks = try #require(message["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["section", "actions", "context"])
        let section = try #require(blocks[0]["text"] as? [String: Any])
        #expect(section["type"] as? String == "mrkdwn")
        let details = try #require(section["text"] as? String)
        for fact in [
            "*orders:live* v1 → v2", "*Strategy:* canary:10%:5m", "*Environment:* prod", "*Status:* AwaitingApproval",
            "*Weight:* 10% on v2", "*Repository:* my-app", "*Build:* 760", "v2 40 invocations, 1 error (2.5%)",
            "v1 400 invocations, 2 errors (0.5%)",
        ] {
            #expect(details.contains(fact), "missing \(fact) in \(details)")
        }

        let buttons = try #require(blocks[1]["elements"] as? [[String: Any]])
        #expect(buttons.count == 2)
        #expect(buttons.map { $0["type"] as? String } == ["button", "button"])
        #expect(buttons.map { $0["url"] as? String } == [links.approve, links.rollback])
        #expect(buttons.map { $0["style"] as? String } == ["primary", "danger"])
        #expect(buttons.map { ($0["text"] as? [String: Any])?["type"] as? String } == ["plain_text", "plain_text"])
        #expect(buttons.map { ($0["text"] as? [String: Any])?["text"] as? String } == ["Approve", "Roll back"])
        #expect(Set(buttons.compactMap { $0["action_id"] as? String }).count == 2)
        let context = try #require(blocks[2]["elements"] as? [[String: Any]])
        #expect(context.first?["text"] as? String == "Deployment d-ABCDEFGHI · 2023-11-14T22:13:20.123Z")
    }

    @Test(arguments: DeploymentNotification.Event.allCases.filter { $0 != .awaitingApproval })
    func linksAreAnnouncedOnlyWhileAwaitingApproval(_ event: DeploymentNotification.Event) throws {
        let notification = DeploymentNotification(event: event, deployment: try gated(), links: links, report: nil, at: time)
        let slack = try json(NotificationPayload.render(notification, as: .slack))
        let blocks = try #require(slack["blocks"] as? [[String: Any]])
        #expect(!blocks.contains { $0["type"] as? String == "actions" })
        #expect(!(try #require(slack["text"] as? String)).contains(links.approve))
        let webhook = try json(NotificationPayload.render(notification, as: .webhook))
        #expect(webhook["event"] as? String == event.rawValue)
        #expect(webhook["links"] == nil)
    }

    @Test func slackMessageOfARollbackGivesTheReasonAndTheFinding() throws {
        let finding = HealthFinding(check: "errorRate >= 5% for 1 of 1 1s", detail: "1 of 1 datapoints breached <b>")
        var deployment = try gated()
        _ = try deployment.handle(.rollback(by: "alice", reason: "canary & co", report: report(finding: finding)), at: time) { "x" }
        let notification = DeploymentNotification(
            event: .rolledBack, deployment: deployment, links: nil, report: deployment.outcome?.report, at: time)
        let message = try json(NotificationPayload.render(notification, as: .slack))

        let text = try #require(message["text"] as? String)
        #expect(text.hasPrefix(":rewind: orders:live 1 → 2 rolled back to v1: rolled back by request: canary &amp; co"))
        let blocks = try #require(message["blocks"] as? [[String: Any]])
        let details = try #require((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        #expect(details.contains("*Reason:* rolled back by request: canary &amp; co (by alice)"))
        #expect(details.contains("*Finding:* errorRate &gt;= 5% for 1 of 1 1s: 1 of 1 datapoints breached &lt;b&gt;"))
        #expect(details.contains("*Status:* RolledBack"))
    }

    @Test func webhookEventCarriesTheDeploymentTheLinksAndBothVersionsHealth() throws {
        let notification = DeploymentNotification(
            event: .awaitingApproval, deployment: try gated(), links: links, report: report(finding: nil), at: time)
        let event = try json(NotificationPayload.render(notification, as: .webhook))

        #expect(event["event"] as? String == "awaitingApproval")
        #expect(event["at"] as? String == "2023-11-14T22:13:20.123Z")
        let deployment = try #require(event["deployment"] as? [String: Any])
        #expect(deployment["id"] as? String == "d-ABCDEFGHI")
        #expect(deployment["function"] as? String == "orders")
        #expect(deployment["alias"] as? String == "live")
        #expect(deployment["fromVersion"] as? String == "1")
        #expect(deployment["toVersion"] as? String == "2")
        #expect(deployment["status"] as? String == "AwaitingApproval")
        #expect(deployment["weight"] as? Double == 0.1)
        #expect(deployment["strategy"] as? String == "canary:10%:5m")
        #expect(deployment["environment"] as? String == "prod")
        #expect(deployment["metadata"] as? [String: String] == ["repository": "my-app", "build": "760"])
        #expect(deployment["outcome"] == nil)

        let eventLinks = try #require(event["links"] as? [String: Any])
        #expect(eventLinks["approve"] as? String == links.approve)
        #expect(eventLinks["rollback"] as? String == links.rollback)
        #expect(eventLinks["expiresAt"] as? String == "2023-11-15T22:13:20.123Z")

        let health = try #require(event["health"] as? [String: Any])
        let new = try #require(health["newVersion"] as? [String: Any])
        #expect(new["invocations"] as? Int == 40)
        #expect(new["errors"] as? Int == 1)
        #expect(new["errorRate"] as? Double == 0.025)
        #expect((new["p99Milliseconds"] as? Double).map { $0 > 0 } == true)
        let old = try #require(health["oldVersion"] as? [String: Any])
        #expect(old["invocations"] as? Int == 400)
        #expect(health["finding"] == nil)
    }

    @Test func webhookEventOfARollbackCarriesTheOutcomeAndTheFinding() throws {
        let finding = HealthFinding(check: "comparison", detail: "the new version fails more often")
        var deployment = try gated()
        _ = try deployment.handle(.rollback(by: "alice", reason: nil, report: report(finding: finding)), at: time) { "x" }
        let notification = DeploymentNotification(
            event: .rolledBack, deployment: deployment, links: nil, report: deployment.outcome?.report, at: time)
        let event = try json(NotificationPayload.render(notification, as: .webhook))

        let outcome = try #require((event["deployment"] as? [String: Any])?["outcome"] as? [String: Any])
        #expect(outcome["cause"] as? String == "Manual")
        #expect(outcome["message"] as? String == "rolled back by request")
        #expect(outcome["by"] as? String == "alice")
        let health = try #require(event["health"] as? [String: Any])
        #expect(health["finding"] as? [String: String] == ["check": "comparison", "detail": "the new version fails more often"])
    }

    // MARK: Delivery

    @Test func failedAttemptsAreRetriedAfterEachDelayInTurn() async throws {
        let transport = ScriptedTransport { _, call in call <= 2 ? 500 : 200 }
        let notifier = notifier(retryDelays: [.milliseconds(30), .milliseconds(120), .seconds(5)], transport: transport)
        let deployment = try gated(notify: ["webhook:http://127.0.0.1:9/hook"])
        try await running(notifier) {
            notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
            try #require(await eventually { notifier.deliveries(of: deployment.id).first?.state == .delivered })
        }
        let delivery = try #require(notifier.deliveries(of: deployment.id).first)
        #expect(delivery.attempts == 3)
        #expect(delivery.lastError == "HTTP 500")
        #expect(delivery.lastAttemptAt != nil)
        let times = transport.calls.map(\.at)
        #expect(times.count == 3)
        #expect(times[1] - times[0] >= .milliseconds(30))
        #expect(times[2] - times[1] >= .milliseconds(120))
    }

    @Test func aDeliveryOutOfRetriesIsFailedWithItsLastError() async throws {
        let transport = ScriptedTransport { _, call in
            if call == 1 { throw WebhookFailure("connection refused") }
            return 503
        }
        let notifier = notifier(retryDelays: [.milliseconds(1), .milliseconds(1)], transport: transport)
        let deployment = try gated(notify: ["webhook:http://127.0.0.1:9/hook"])
        try await running(notifier) {
            notifier.send(DeploymentNotification(event: .failed, deployment: deployment, at: time))
            try #require(await eventually { notifier.deliveries(of: deployment.id).first?.state == .failed })
        }
        let delivery = try #require(notifier.deliveries(of: deployment.id).first)
        #expect(delivery.attempts == 3)
        #expect(delivery.lastError == "HTTP 503")
        #expect(delivery.event == .failed)
        #expect(transport.calls.count == 3)
    }

    @Test(arguments: [400, 403, 404, 410, 422])
    func aClientErrorIsNotRetried(_ status: Int) async throws {
        let transport = ScriptedTransport { _, _ in status }
        let notifier = notifier(retryDelays: [.milliseconds(1), .milliseconds(1)], transport: transport)
        let deployment = try gated(notify: ["webhook:http://127.0.0.1:9/hook"])
        try await running(notifier) {
            notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
            try #require(await eventually { notifier.deliveries(of: deployment.id).first?.state == .failed })
            try await Task.sleep(for: .milliseconds(20))
        }
        let delivery = try #require(notifier.deliveries(of: deployment.id).first)
        #expect(delivery.attempts == 1)
        #expect(delivery.lastError?.hasPrefix("HTTP \(status)") == true)
        #expect(transport.calls.count == 1)
    }

    @Test(arguments: [408, 429, 502])
    func timeoutAndThrottlingStatusesAreRetried(_ status: Int) async throws {
        let transport = ScriptedTransport { _, call in call == 1 ? status : 204 }
        let notifier = notifier(retryDelays: [.milliseconds(1)], transport: transport)
        let deployment = try gated(notify: ["webhook:http://127.0.0.1:9/hook"])
        try await running(notifier) {
            notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
            try #require(await eventually { notifier.deliveries(of: deployment.id).first?.state == .delivered })
        }
        #expect(notifier.deliveries(of: deployment.id).first?.attempts == 2)
    }

    @Test func deliveriesShowTargetsWithoutTheirSecrets() throws {
        let deployment = try gated(notify: [
            "slack:https://hooks.slack.com/services/T000/B000/XXXXSECRET", "webhook:http://127.0.0.1:8080/hook?token=SECRET",
            "webhook:https://user:SECRET@example.com", "webhook:https://example.com",
        ])
        let notifier = notifier(retryDelays: [], transport: ScriptedTransport { _, _ in 200 })
        notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
        let targets = notifier.deliveries(of: deployment.id).map(\.target)
        #expect(
            targets == [
                "slack:https://hooks.slack.com/…", "webhook:http://127.0.0.1:8080/…", "webhook:https://example.com",
                "webhook:https://example.com",
            ])
        #expect(!targets.contains { $0.contains("SECRET") })
    }

    @Test func sendReturnsAtOnceWhileTheReceiverHangs() async throws {
        let transport = ScriptedTransport { _, _ in
            try await Task.sleep(for: .seconds(3600))
            return 200
        }
        let notifier = notifier(retryDelays: [], timeout: .milliseconds(300), transport: transport)
        let deployment = try gated(notify: ["webhook:http://127.0.0.1:9/a", "slack:http://127.0.0.1:9/b"])
        try await running(notifier) {
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                for event in DeploymentNotification.Event.allCases {
                    notifier.send(DeploymentNotification(event: event, deployment: deployment, at: time))
                }
            }
            // Sending waited on no attempt: not even one timeout has passed.
            #expect(elapsed < .milliseconds(250))
            #expect(notifier.deliveries(of: deployment.id).count == 14)
            try #require(await eventually { notifier.deliveries(of: deployment.id).first?.state == .failed })
        }
        let delivery = try #require(notifier.deliveries(of: deployment.id).first)
        #expect(delivery.lastError == "timed out after 0.3 seconds")
        #expect(delivery.attempts == 1)
    }

    @Test func aLaterEventToATargetWaitsForAnEarlierOneBeingRetried() async throws {
        let slow = "http://127.0.0.1:9/slow"
        let transport = ScriptedTransport { url, call in url.absoluteString == slow && call <= 2 ? 500 : 200 }
        let notifier = notifier(retryDelays: [.milliseconds(40), .milliseconds(40)], transport: transport)
        let deployment = try gated(notify: ["webhook:" + slow, "webhook:http://127.0.0.1:9/fast"])
        try await running(notifier) {
            for event in [DeploymentNotification.Event.started, .stepChanged, .promoted] {
                notifier.send(DeploymentNotification(event: event, deployment: deployment, at: time))
            }
            try #require(await eventually { notifier.deliveries(of: deployment.id).allSatisfy { $0.state == .delivered } })
        }
        let calls = transport.calls
        func events(_ url: String) throws -> [String] {
            try calls.filter { $0.url.absoluteString == url }.map { try #require(json($0.body)["event"] as? String) }
        }
        #expect(try events(slow) == ["started", "started", "started", "stepChanged", "promoted"])
        #expect(try events("http://127.0.0.1:9/fast") == ["started", "stepChanged", "promoted"])
        // Another target does not wait for the slow one's retries.
        let fastDone = try #require(calls.lastIndex { $0.url.absoluteString != slow })
        #expect(fastDone < calls.firstIndex { $0.url.absoluteString == slow && $0.call == 3 }!)
    }

    @Test func theOldestWaitingDeliveryIsDroppedBeyondTheQueueLimit() async throws {
        let transport = ScriptedTransport { _, _ in
            try await Task.sleep(for: .seconds(3600))
            return 200
        }
        let notifier = Notifier(logger: quiet, retryDelays: [], timeout: .seconds(3600), transport: transport, maximumQueued: 3)
        let deployment = try gated(notify: ["webhook:http://127.0.0.1:9/hook"])
        try await running(notifier) {
            notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
            try #require(await eventually { transport.calls.count == 1 })
            for event in [DeploymentNotification.Event.stepChanged, .awaitingApproval, .approved, .promoted] {
                notifier.send(DeploymentNotification(event: event, deployment: deployment, at: time))
            }
            let deliveries = notifier.deliveries(of: deployment.id)
            #expect(deliveries.map(\.state) == [.pending, .failed, .pending, .pending, .pending])
            #expect(deliveries[1].event == .stepChanged)
            #expect(deliveries[1].lastError == "dropped: more than 3 deliveries were waiting")
        }
    }

    @Test func onlyTheMostRecentDeliveriesOfRecentDeploymentsAreKept() throws {
        let notifier = notifier(retryDelays: [], transport: ScriptedTransport { _, _ in 200 })
        let events = DeploymentNotification.Event.allCases
        let busy = try gated(notify: ["webhook:http://127.0.0.1:9/hook"])
        for index in 0..<105 {
            notifier.send(DeploymentNotification(event: events[index % events.count], deployment: busy, at: time))
        }
        let kept = notifier.deliveries(of: busy.id)
        #expect(kept.count == 100)
        #expect(kept.first?.event == events[5 % events.count])

        for index in 1...500 {
            let id = DeploymentID(String(format: "d-%09d", index))!
            let deployment = try gated(id: id, notify: ["webhook:http://127.0.0.1:9/hook"])
            notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
        }
        #expect(notifier.deliveries(of: busy.id).isEmpty)
        #expect(notifier.deliveries(of: DeploymentID("d-000000001")!).count == 1)
    }

    // MARK: Fixtures

    let time = Timestamp(millisecondsSince1970: 1_700_000_000_123)
    let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let links = ApprovalLinks(
        approve: "https://aviary.example/approvals/AAA.sig1", rollback: "https://aviary.example/approvals/BBB.sig2",
        expiresAt: Timestamp(millisecondsSince1970: 1_700_086_400_123))

    func notifier(retryDelays: [Duration], timeout: Duration = .seconds(5), transport: ScriptedTransport) -> Notifier {
        Notifier(logger: quiet, retryDelays: retryDelays, timeout: timeout, transport: transport)
    }

    /// `orders:live` 1 → 2 to `prod`, waiting at its gate with 10% on version 2.
    func gated(id: DeploymentID = DeploymentID("d-ABCDEFGHI")!, notify: [String] = []) throws -> Deployment {
        var deployment = Deployment(
            id: id, function: FunctionName(trusted: "orders"), alias: AliasName(trusted: "live"), fromVersion: VersionNumber(1),
            toVersion: VersionNumber(2), strategy: try Strategy.canary(percent: 10, milliseconds: 300_000), prewarm: 0,
            metadata: ["repository": "my-app", "build": "760"], createdAt: time, gate: ApprovalGate(environment: "prod"),
            notify: try notify.map { text throws(DeploymentError) in try NotificationTarget.parse(text) })
        _ = try deployment.handle(.start, at: time) { UUID().uuidString }
        return deployment
    }

    func report(finding: HealthFinding?) -> HealthReport {
        var canary = VersionHealth()
        var baseline = VersionHealth()
        canary.invocations = 40
        canary.errors = 1
        canary.durations.record(milliseconds: 12)
        baseline.invocations = 400
        baseline.errors = 2
        return HealthReport(canary: canary, baseline: baseline, comparisonEvidence: nil, stepInvocations: 40, finding: finding)
    }
}

func json(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Runs `notifier` for the duration of `body`.
func running(_ notifier: Notifier, _ body: () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await notifier.run() }
        defer { group.cancelAll() }
        try await body()
    }
}

/// Whether `condition` holds within `seconds`, checked every few milliseconds. The limit is generous: the
/// suite runs its tests side by side on two cores, and under that load the notifier's retry timers were
/// seen late enough to miss a 5-second limit; a passing test returns as soon as the condition holds.
func eventually(within seconds: Int = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(2))) != nil else { return false }
    }
    return true
}

/// Answers each POST as `respond` says (given the URL and how many calls that URL has had, from 1) and
/// records them.
final class ScriptedTransport: WebhookTransport {
    struct Call: Sendable {
        let url: URL
        let body: Data
        let call: Int
        let at: ContinuousClock.Instant
    }

    private let respond: @Sendable (URL, Int) async throws -> Int
    private let recorded = Mutex<[Call]>([])

    init(_ respond: @escaping @Sendable (URL, Int) async throws -> Int) {
        self.respond = respond
    }

    var calls: [Call] { recorded.withLock { $0 } }

    func post(url: URL, body: Data, timeout: Duration) async throws -> Int {
        let call = recorded.withLock { calls in
            let call = calls.filter { $0.url == url }.count + 1
            calls.append(Call(url: url, body: body, call: call, at: .now))
            return call
        }
        return try await respond(url, call)
    }
}
