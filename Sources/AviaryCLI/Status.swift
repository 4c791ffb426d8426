import ArgumentParser
import Foundation

/// `aviary status`: deployments in flight (or one deployment in detail).
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show deployments in flight, or one deployment with its history.")

    @Argument(help: "A deployment id (d-…); without it, the active deployments.")
    var deployment: String?

    @Flag(help: "List recent deployments, finished ones included.")
    var all = false

    @Option(help: "Only deployments of this function.")
    var function: String?

    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        let client = try endpoint.client()
        do {
            if let deployment {
                let view = try await client.get("v1/deployments/\(deployment)", as: DeploymentView.self)
                Self.printDetail(view)
                return
            }
            var query = ["status": all ? "all" : "active", "limit": "50"]
            if let function { query["function"] = function }
            let list = try await client.get("v1/deployments", query: query, as: DeploymentList.self)
            if list.deployments.isEmpty {
                emit(all ? "no deployments" : "no deployment in flight")
                return
            }
            for view in list.deployments {
                let subject =
                    view.release.map { "\($0.application) release \($0.number) (\($0.functions.count) function\($0.functions.count == 1 ? "" : "s"))" }
                    ?? "\(view.function):\(view.alias)  v\(view.currentVersion) → v\(view.targetVersion)"
                emit("\(view.id)  \(subject)  \(view.strategy.name)  \(view.progressLine)")
            }
        } catch let failure as APIClient.Failure {
            throw CleanExit.failure(failure.description)
        }
    }

    static func printDetail(_ view: DeploymentView) {
        emit("deployment  \(view.id)")
        if let release = view.release {
            emit("release     \(release.number) of \(release.application)")
            for target in release.functions {
                emit("  alias     \(target.function):\(target.alias)  v\(target.currentVersion) → v\(target.targetVersion)")
            }
        } else {
            emit("alias       \(view.function):\(view.alias)  v\(view.currentVersion) → v\(view.targetVersion)")
        }
        emit("strategy    \(view.strategy.name)")
        emit("status      \(view.progressLine)")
        if !view.metadata.isEmpty {
            emit("metadata    " + view.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if let environment = view.environment { emit("environment \(environment)") }
        if let approval = view.approval {
            var line = "approval    \(approval.status)"
            if let decision = approval.decision { line += " by \(decision.by ?? decision.via) via \(decision.via)" }
            if approval.status == "Pending", let expires = approval.expiresAt { line += " until \(expires)" }
            emit(line)
            if let links = approval.links {
                emit("  approve   \(links.approve)")
                emit("  roll back \(links.rollback)")
            }
        }
        if let outcome = view.outcome {
            emit("outcome     \(outcome.cause): \(outcome.message)\(outcome.by.map { " (by \($0))" } ?? "")")
        }
        if let notifications = view.notifications, !notifications.isEmpty {
            let delivered = notifications.filter { $0.state == "delivered" }.count
            emit("notify      \(delivered) of \(notifications.count) delivered")
            for line in view.failedNotifications { emit("  \(line)") }
        }
        emit("history")
        for entry in view.history {
            emit("  \(entry.at)  \(entry.message)\(entry.by.map { " (by \($0))" } ?? "")")
        }
    }
}
