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
                emit("\(view.id)  \(view.function):\(view.alias)  v\(view.currentVersion) → v\(view.targetVersion)  \(view.strategy.name)  \(view.progressLine)")
            }
        } catch let failure as APIClient.Failure {
            throw CleanExit.failure(failure.description)
        }
    }

    static func printDetail(_ view: DeploymentView) {
        emit("deployment  \(view.id)")
        emit("alias       \(view.function):\(view.alias)  v\(view.currentVersion) → v\(view.targetVersion)")
        emit("strategy    \(view.strategy.name)")
        emit("status      \(view.progressLine)")
        if !view.metadata.isEmpty {
            emit("metadata    " + view.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if let outcome = view.outcome {
            emit("outcome     \(outcome.cause): \(outcome.message)\(outcome.by.map { " (by \($0))" } ?? "")")
        }
        emit("history")
        for entry in view.history {
            emit("  \(entry.at)  \(entry.message)\(entry.by.map { " (by \($0))" } ?? "")")
        }
    }
}

/// `aviary promote|pause|resume|rollback|retry DEPLOYMENT`.
struct DeploymentAction: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deployment-action", shouldDisplay: false)

    struct Body: Encodable {
        var actor: String?
        var reason: String?
    }

    static func perform(_ action: String, id: String, reason: String?, actor: String?, endpoint: EndpointOptions) async throws {
        let client = try endpoint.client()
        do {
            let view = try await client.post(
                "v1/deployments/\(id)/\(action)",
                body: Body(actor: actor ?? ProcessInfo.processInfo.environment["USER"], reason: reason), as: DeploymentView.self)
            if action == "retry" {
                emit("deployment \(view.id) retries \(id): \(view.progressLine)")
            } else {
                emit("\(view.id): \(view.progressLine)")
                if view.isFinished { Follow.printOutcome(view) }
            }
        } catch let failure as APIClient.Failure {
            throw CleanExit.failure(failure.description)
        }
    }
}

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Skip a deployment's remaining steps (or the rest of its bake).")
    @Argument(help: "The deployment id.") var deployment: String
    @Option(help: "Why (recorded).") var reason: String?
    @Option(help: "Who (default: $USER).") var actor: String?
    @OptionGroup var endpoint: EndpointOptions
    func run() async throws { try await DeploymentAction.perform("promote", id: deployment, reason: reason, actor: actor, endpoint: endpoint) }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hold a deployment at its current weight (health is still judged).")
    @Argument(help: "The deployment id.") var deployment: String
    @Option(help: "Why (recorded).") var reason: String?
    @Option(help: "Who (default: $USER).") var actor: String?
    @OptionGroup var endpoint: EndpointOptions
    func run() async throws { try await DeploymentAction.perform("pause", id: deployment, reason: reason, actor: actor, endpoint: endpoint) }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a paused deployment where it stopped.")
    @Argument(help: "The deployment id.") var deployment: String
    @Option(help: "Why (recorded).") var reason: String?
    @Option(help: "Who (default: $USER).") var actor: String?
    @OptionGroup var endpoint: EndpointOptions
    func run() async throws { try await DeploymentAction.perform("resume", id: deployment, reason: reason, actor: actor, endpoint: endpoint) }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Put the alias back on the previous version now.")
    @Argument(help: "The deployment id.") var deployment: String
    @Option(help: "Why (recorded).") var reason: String?
    @Option(help: "Who (default: $USER).") var actor: String?
    @OptionGroup var endpoint: EndpointOptions
    func run() async throws { try await DeploymentAction.perform("rollback", id: deployment, reason: reason, actor: actor, endpoint: endpoint) }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a rolled-back or failed deployment again, with the same settings.")
    @Argument(help: "The deployment id.") var deployment: String
    @Option(help: "Who (default: $USER).") var actor: String?
    @OptionGroup var endpoint: EndpointOptions
    func run() async throws { try await DeploymentAction.perform("retry", id: deployment, reason: nil, actor: actor, endpoint: endpoint) }
}
