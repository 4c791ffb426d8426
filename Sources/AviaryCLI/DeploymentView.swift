import Foundation

/// The parts of the API's deployment JSON the CLI shows.
struct DeploymentView: Decodable {
    var id: String
    var function: String
    var alias: String
    var currentVersion: String
    var targetVersion: String
    var strategy: Strategy
    var status: String
    var paused: Bool
    var step: Int
    var steps: Int
    var weight: Double
    var nextTransitionAt: String?
    var awaitingEvidence: Bool
    var createdAt: String
    var metadata: [String: String]
    var hook: Hook?
    var health: Health
    var outcome: Outcome?
    var history: [Entry]
    var environment: String?
    var release: Release?
    var approval: Approval?
    var notifications: [Notification]?

    struct Release: Decodable {
        var application: String
        var number: Int
        var functions: [Target]
        var manifest: [ManifestLine]
    }
    struct Target: Decodable {
        var function: String
        var alias: String
        var currentVersion: String
        var targetVersion: String
    }
    struct ManifestLine: Decodable {
        var function: String
        var alias: String
        var version: String
    }
    struct Approval: Decodable {
        var status: String
        var canaryWeight: Double
        var expiresAt: String?
        var decision: Decision?
        var links: Links?
    }
    struct Decision: Decodable {
        var kind: String
        var by: String?
        var via: String
    }
    struct Links: Decodable {
        var approve: String
        var rollback: String
    }
    struct Notification: Decodable {
        var target: String
        var event: String
        var state: String
        var attempts: Int
        var lastError: String?
    }

    struct Strategy: Decodable { var name: String }
    struct Hook: Decodable {
        var lifecycleEvent: String
        var function: String
        var status: String
    }
    struct Health: Decodable {
        var minimumInvocations: Int
        var live: Report?
    }
    struct Report: Decodable {
        var target: Version
        var current: Version
        var stepInvocations: Int
        var finding: Finding?
    }
    struct Version: Decodable {
        var invocations: Int
        var errors: Int
        var throttles: Int
        var p99Milliseconds: Double?
    }
    struct Finding: Decodable {
        var check: String
        var detail: String
    }
    struct Outcome: Decodable {
        var cause: String
        var message: String
        var by: String?
        var report: Report?
    }
    struct Entry: Decodable {
        var at: String
        var status: String
        var message: String
        var by: String?
    }

    var isFinished: Bool { ["Succeeded", "RolledBack", "Failed"].contains(status) }

    /// One line: where it is and how both versions do.
    var progressLine: String {
        var parts = ["\(status)\(paused ? " (paused)" : "")"]
        if status == "Shifting" { parts.append("step \(step)/\(steps): \(percent(weight)) → v\(targetVersion)") }
        if status == "AwaitingApproval" { parts.append("\(percent(weight)) → v\(targetVersion) until approved") }
        if let hook, hook.status == "InProgress" { parts.append("waiting for \(hook.lifecycleEvent) hook \(hook.function)") }
        if let live = health.live {
            parts.append("v\(targetVersion): \(Self.figures(live.target))")
            parts.append("v\(currentVersion): \(Self.figures(live.current))")
            if status == "Shifting" { parts.append("evidence \(live.stepInvocations)/\(health.minimumInvocations)") }
        }
        if awaitingEvidence {
            parts.append("waiting for invocations")
        } else if let next = nextTransitionAt, let seconds = Self.secondsUntil(next) {
            parts.append("next in \(seconds)s")
        }
        return parts.joined(separator: " | ")
    }

    /// Notifications that could not be delivered, one line each.
    var failedNotifications: [String] {
        (notifications ?? []).filter { $0.state == "failed" }.map {
            "notification \($0.event) to \($0.target) failed after \($0.attempts) attempt\($0.attempts == 1 ? "" : "s")"
                + ($0.lastError.map { ": \($0)" } ?? "")
        }
    }

    static func figures(_ version: Version) -> String {
        var text = "\(version.invocations) inv, \(version.errors) err"
        if version.throttles > 0 { text += ", \(version.throttles) throttled" }
        if let p99 = version.p99Milliseconds { text += ", p99 ≤\(p99 < 10 ? String(format: "%.1f", p99) : String(Int(p99.rounded())))ms" }
        return text
    }

    func percent(_ weight: Double) -> String {
        let value = (weight * 1000).rounded() / 10
        return (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
    }

    /// Seconds from now to an API timestamp (`2026-11-22T10:00:00.000+0000`).
    static func secondsUntil(_ timestamp: String) -> Int? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        guard let date = formatter.date(from: timestamp) else { return nil }
        return max(0, Int(date.timeIntervalSinceNow.rounded(.up)))
    }
}

struct DeploymentList: Decodable {
    var deployments: [DeploymentView]
    var nextMarker: String?
}
