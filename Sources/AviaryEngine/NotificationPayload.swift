import AviaryCore
import Foundation

/// The JSON bodies of notifications: a Slack incoming-webhook message, or Aviary's generic event.
enum NotificationPayload {
    static func render(_ notification: DeploymentNotification, as kind: NotificationTarget.Kind) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Non-finite numbers are the only values JSONEncoder refuses; spelled out, encoding cannot fail.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return switch kind {
        case .slack: try! encoder.encode(SlackMessage(notification))
        case .webhook: try! encoder.encode(WebhookEvent(notification))
        }
    }

    /// The links are announced only while they can act: once the gate decided they are spent.
    static func links(_ notification: DeploymentNotification) -> ApprovalLinks? {
        notification.event == .awaitingApproval ? notification.links : nil
    }

    /// `0.1` as `10%`, `0.125` as `12.5%`.
    static func percent(_ weight: Double) -> String {
        let percent = (weight * 10_000).rounded() / 100
        return percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
    }

    /// `2023-11-14T22:13:20.123Z`. The milliseconds are written from the integer: a `Date` holds a
    /// binary fraction that the formatter would truncate to the millisecond below.
    static func iso8601(_ time: Timestamp) -> String {
        let (seconds, milliseconds) = time.millisecondsSince1970.quotientAndRemainder(dividingBy: 1000)
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)
        return whole.dropLast() + String(format: ".%03dZ", milliseconds)
    }
}

// MARK: Slack

/// A Slack incoming-webhook message: `text` is the one-line summary (notifications and clients without
/// Block Kit show it), `blocks` the details and, at a gate, the approve and roll-back buttons.
struct SlackMessage: Encodable {
    let text: String
    let blocks: [Block]

    struct Block: Encodable {
        let type: String
        var text: Text?
        var elements: [Element]?
    }

    struct Text: Encodable {
        let type: String
        let text: String
    }

    /// What an `actions` or `context` block holds: buttons, or text objects.
    enum Element: Encodable {
        case text(Text)
        case button(Button)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .text(let text): try text.encode(to: encoder)
            case .button(let button): try button.encode(to: encoder)
            }
        }
    }

    /// A link button: Slack opens the URL in the browser, where the approval page asks to confirm.
    struct Button: Encodable {
        var type = "button"
        let text: Text
        let url: String
        let style: String
        let action_id: String

        init(_ label: String, url: String, style: String, id: String) {
            text = Text(type: "plain_text", text: label)
            self.url = url
            self.style = style
            action_id = id
        }
    }

    init(_ notification: DeploymentNotification) {
        let deployment = notification.deployment
        let name = Self.subject(deployment)
        var summary = "\(Self.emoji(notification.event)) \(Self.escape(name)) \(Self.headline(notification))"
        let links = NotificationPayload.links(notification)
        if let links { summary += " — Approve: <\(links.approve)> · Roll back: <\(links.rollback)>" }
        text = summary

        var blocks = [Block(type: "section", text: Text(type: "mrkdwn", text: Self.details(notification)))]
        if let links {
            let approve = Button("Approve", url: links.approve, style: "primary", id: "approve")
            let rollback = Button("Roll back", url: links.rollback, style: "danger", id: "rollback")
            blocks.append(Block(type: "actions", elements: [.button(approve), .button(rollback)]))
        }
        let context = Text(type: "mrkdwn", text: "Deployment \(deployment.id) · \(NotificationPayload.iso8601(notification.at))")
        blocks.append(Block(type: "context", elements: [.text(context)]))
        self.blocks = blocks
    }

    static func emoji(_ event: DeploymentNotification.Event) -> String {
        switch event {
        case .started: ":rocket:"
        case .stepChanged: ":arrow_forward:"
        case .awaitingApproval: ":hourglass:"
        case .approved: ":white_check_mark:"
        case .promoted: ":tada:"
        case .rolledBack: ":rewind:"
        case .failed: ":x:"
        }
    }

    static func phrase(_ event: DeploymentNotification.Event) -> String {
        switch event {
        case .started: "started"
        case .stepChanged: "step changed"
        case .awaitingApproval: "awaiting approval"
        case .approved: "approved"
        case .promoted: "promoted"
        case .rolledBack: "rolled back"
        case .failed: "failed"
        }
    }

    /// What moves: `orders:live 1 → 2`, or a release's application, number and aliases.
    static func subject(_ deployment: Deployment) -> String {
        guard let release = deployment.release else {
            return "\(deployment.function):\(deployment.alias) \(deployment.fromVersion) → \(deployment.toVersion)"
        }
        let targets = deployment.targets
        let shown = targets.prefix(5).map(\.description).joined(separator: ", ")
        return "\(release.application) release \(release.number) (\(shown)\(targets.count > 5 ? ", and \(targets.count - 5) more" : ""))"
    }

    /// What happened, after the function, alias and versions.
    static func headline(_ notification: DeploymentNotification) -> String {
        let deployment = notification.deployment
        let weight = "\(NotificationPayload.percent(deployment.weight)) on v\(deployment.toVersion)"
        let reason = deployment.outcome.map { ": " + escape(clipped($0.message, 300)) } ?? ""
        switch notification.event {
        case .started: return "started (\(escape(deployment.strategy.name)))"
        case .stepChanged: return "now at \(weight)"
        case .awaitingApproval: return "awaiting approval (\(weight))"
        case .approved:
            guard let decision = deployment.approval?.decision else { return "approved" }
            if decision.via == "policy" { return "pre-approved by the environment's policy" }
            if decision.via == "timeout" { return "approved: no decision before the gate's timeout" }
            return "approved" + (decision.by.map { " by " + escape($0) } ?? "")
        case .promoted: return "promoted: v\(deployment.toVersion) takes all traffic"
        case .rolledBack: return "rolled back to v\(deployment.fromVersion)\(reason)"
        case .failed: return "failed\(reason)"
        }
    }

    /// The section's mrkdwn: where, what, how far, and how both versions are doing.
    static func details(_ notification: DeploymentNotification) -> String {
        let deployment = notification.deployment
        let weight = "\(NotificationPayload.percent(deployment.weight)) on v\(deployment.toVersion)"
        var lines = [
            (deployment.release == nil
                ? "*\(escape("\(deployment.function):\(deployment.alias)"))* v\(deployment.fromVersion) → v\(deployment.toVersion) · "
                : "*\(escape(subject(deployment)))* · ")
                + "*\(phrase(notification.event))*",
            "*Strategy:* \(escape(deployment.strategy.name))"
                + (deployment.gate?.environment.map { " · *Environment:* \(escape($0))" } ?? ""),
            "*Status:* \(deployment.status.rawValue) · *Weight:* \(weight)",
        ]
        let origin = [("Repository", "repository"), ("Build", "build")].compactMap { label, key in
            deployment.metadata[key].map { "*\(label):* \(escape(clipped($0, 200)))" }
        }
        if !origin.isEmpty { lines.append(origin.joined(separator: " · ")) }
        if let report = notification.report {
            lines.append(
                "*Health:* v\(deployment.toVersion) \(figures(report.canary)) · v\(deployment.fromVersion) \(figures(report.baseline))")
            if let finding = report.finding {
                lines.append("*Finding:* \(escape(finding.check)): \(escape(clipped(finding.detail, 500)))")
            }
        }
        if notification.event == .rolledBack || notification.event == .failed, let outcome = deployment.outcome {
            lines.append("*Reason:* \(escape(clipped(outcome.message, 800)))" + (outcome.by.map { " (by \(escape($0)))" } ?? ""))
        }
        // Block Kit refuses a section text over 3000 characters.
        return clipped(lines.joined(separator: "\n"), 3000)
    }

    static func figures(_ health: VersionHealth) -> String {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        let rate = health.errorRate.map { " (\(NotificationPayload.percent($0)))" } ?? ""
        return "\(count(health.invocations, "invocation")), \(count(health.errors, "error"))\(rate)"
    }

    /// Slack's three control characters in text that is not markup.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func clipped(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : text.prefix(limit - 1) + "…"
    }
}

// MARK: Generic webhook

/// Aviary's own event: the deployment's facts as fields, for receivers that act on them.
struct WebhookEvent: Encodable {
    let event: String
    let at: String
    let deployment: DeploymentFacts
    let links: Links?
    let health: Health?

    struct DeploymentFacts: Encodable {
        let id: String
        let function: String
        let alias: String
        let fromVersion: String
        let toVersion: String
        let status: String
        let weight: Double
        let strategy: String
        let environment: String?
        let metadata: [String: String]
        let outcome: OutcomeFacts?
        /// Set for a release: the application, its number and every alias it moves.
        let release: ReleaseFacts?
    }

    struct ReleaseFacts: Encodable {
        let application: String
        let number: Int
        let functions: [TargetFacts]
    }

    struct TargetFacts: Encodable {
        let function: String
        let alias: String
        let fromVersion: String
        let toVersion: String
    }

    struct OutcomeFacts: Encodable {
        let cause: String
        let message: String
        let by: String?
    }

    struct Links: Encodable {
        let approve: String
        let rollback: String
        let expiresAt: String
    }

    struct Health: Encodable {
        let newVersion: Figures
        let oldVersion: Figures
        let finding: HealthFinding?
    }

    struct Figures: Encodable {
        let invocations: Int
        let errors: Int
        let errorRate: Double?
        let p99Milliseconds: Double?

        init(_ health: VersionHealth) {
            invocations = health.invocations
            errors = health.errors
            errorRate = health.errorRate
            // A histogram's estimate: more digits than microseconds would only be noise.
            p99Milliseconds = health.p99Milliseconds.map { ($0 * 1000).rounded() / 1000 }
        }
    }

    init(_ notification: DeploymentNotification) {
        let deployment = notification.deployment
        event = notification.event.rawValue
        at = NotificationPayload.iso8601(notification.at)
        self.deployment = DeploymentFacts(
            id: deployment.id.rawValue, function: deployment.function.rawValue, alias: deployment.alias.rawValue,
            fromVersion: deployment.fromVersion.description, toVersion: deployment.toVersion.description,
            status: deployment.status.rawValue, weight: deployment.weight, strategy: deployment.strategy.name,
            environment: deployment.gate?.environment, metadata: deployment.metadata,
            outcome: deployment.outcome.map { OutcomeFacts(cause: $0.cause.rawValue, message: $0.message, by: $0.by) },
            release: deployment.release.map { release in
                ReleaseFacts(
                    application: release.application, number: release.number,
                    functions: deployment.targets.map {
                        TargetFacts(
                            function: $0.function.rawValue, alias: $0.alias.rawValue, fromVersion: $0.fromVersion.description,
                            toVersion: $0.toVersion.description)
                    })
            })
        links = NotificationPayload.links(notification).map {
            Links(approve: $0.approve, rollback: $0.rollback, expiresAt: NotificationPayload.iso8601($0.expiresAt))
        }
        health = notification.report.map {
            Health(newVersion: Figures($0.canary), oldVersion: Figures($0.baseline), finding: $0.finding)
        }
    }
}
