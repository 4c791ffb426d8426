import ArgumentParser
import Foundation

/// What `aviary approve|promote|pause|resume|rollback|retry` share: the deployment, who and why, the server.
struct DeploymentActionOptions: ParsableArguments {
    @Argument(help: "The deployment id (for rollback --to: the application).") var deployment: String
    @Option(help: "Why (recorded).") var reason: String?
    @Option(help: "Who (default: $USER).") var actor: String?
    @OptionGroup var endpoint: EndpointOptions

    struct Body: Encodable {
        var actor: String?
        var reason: String?
    }

    /// Posts the action and prints where the deployment is (or the new one, for retry).
    func perform(_ action: String) async throws {
        let client = try endpoint.client()
        do {
            let view = try await client.post(
                "v1/deployments/\(deployment)/\(action)",
                body: Body(actor: actor ?? ProcessInfo.processInfo.environment["USER"], reason: reason), as: DeploymentView.self)
            if action == "retry" {
                emit("deployment \(view.id) retries \(deployment): \(view.progressLine)")
            } else {
                emit("\(view.id): \(view.progressLine)")
                if view.isFinished { Follow.printOutcome(view) }
            }
        } catch let failure as APIClient.Failure {
            throw CleanExit.failure(failure.description)
        }
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Let a deployment waiting at its approval gate go on (as its approve link does).")
    @OptionGroup var options: DeploymentActionOptions
    func run() async throws { try await options.perform("approve") }
}

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Skip a deployment's remaining steps (or the rest of its bake).")
    @OptionGroup var options: DeploymentActionOptions
    func run() async throws { try await options.perform("promote") }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hold a deployment where it is (health is still judged).")
    @OptionGroup var options: DeploymentActionOptions
    func run() async throws { try await options.perform("pause") }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a paused deployment where it stopped.")
    @OptionGroup var options: DeploymentActionOptions
    func run() async throws { try await options.perform("resume") }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put the alias back on the previous version now; with --to, every alias of an application on an earlier release.",
        discussion: """
            aviary rollback d-XXXXXXXXX     rolls a deployment (or release) in flight back.
            aviary rollback APP --to 3      repoints every alias of APP to release 3's versions in one transaction, \
            without analysis; a release in flight is rolled back first. Running it again is safe.
            """)
    @OptionGroup var options: DeploymentActionOptions
    @Option(help: "The release of the application (the argument) to go back to.") var to: Int?

    func run() async throws {
        guard let to else { return try await options.perform("rollback") }
        let application = options.deployment
        let client = try options.endpoint.client()
        do {
            let result = try await client.post(
                "v1/applications/\(application)/rollback",
                body: RestoreBody(to: to, actor: options.actor ?? ProcessInfo.processInfo.environment["USER"], reason: options.reason),
                as: RestoreResult.self)
            emit(result.message)
            if let release = result.release { emit("recorded as release \(release.release?.number ?? 0) (\(release.id))") }
        } catch let failure as APIClient.Failure {
            if failure.isUsageError { throw ValidationError(failure.description) }
            throw CleanExit.failure(failure.description)
        }
    }

    struct RestoreBody: Encodable {
        var to: Int
        var actor: String?
        var reason: String?
    }

    struct RestoreResult: Decodable {
        var restored: Bool
        var message: String
        var release: DeploymentView?
    }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a rolled-back or failed deployment again, with the same settings.")
    @OptionGroup var options: DeploymentActionOptions
    func run() async throws { try await options.perform("retry") }
}
