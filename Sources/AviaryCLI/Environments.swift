import ArgumentParser
import AviaryCore
import Foundation

/// `aviary env`: the deployment policies of named environments.
struct Environments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Show and set the policies of environments (dev, qa, prod, …) that deployments apply with --env.",
        discussion: """
            dev and qa exist from the start, pre-approved; prod exists, gated (a person approves). Any other name \
            is gated unless set otherwise. Deploy flags override the environment's policy.
            """,
        subcommands: [List.self, Show.self, Set.self, Delete.self],
        defaultSubcommand: List.self)

    struct View: Decodable {
        var name: String
        var strategy: String?
        var canaryWeight: Double
        var requireApproval: Bool
        var approvalTimeout: String
        var onTimeout: String
        var afterApproval: String
        var approvers: [String]
        var notify: [String]

        var lines: [String] {
            [
                "\(name)",
                "  strategy           \(strategy ?? "(deployment's, else Canary10Percent5Minutes)")",
                "  approval           " + (requireApproval ? "required; \(Int((canaryWeight * 1000).rounded()) / 10)% canary while waiting" : "pre-approved"),
                "  approval timeout   \(approvalTimeout), then \(onTimeout)",
                "  after approval     \(afterApproval)",
                "  approvers          \(approvers.isEmpty ? "anyone with a link" : approvers.joined(separator: ", "))",
                "  notify             \(notify.isEmpty ? "-" : notify.joined(separator: " "))",
            ]
        }
    }

    struct ListView: Decodable {
        var environments: [View]
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List environments and their policies.")
        @OptionGroup var endpoint: EndpointOptions

        func run() async throws {
            let list = try await call { try await endpoint.client().get("v1/environments", as: ListView.self) }
            for environment in list.environments { environment.lines.forEach(emit) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one environment's policy.")
        @Argument(help: "The environment.") var name: String
        @OptionGroup var endpoint: EndpointOptions

        func run() async throws {
            try validateName(name)
            let view = try await call { try await endpoint.client().get("v1/environments/\(name)", as: View.self) }
            view.lines.forEach(emit)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an environment or change the settings given (the others keep their value).")
        @Argument(help: "The environment.") var name: String
        @Option(help: "Default strategy of its deployments ('' clears it).") var strategy: String?
        @Option(help: "The new version's share while waiting for approval, 0 to below 1 (NEW_VERSION_WEIGHTAGE).") var canaryWeight: Double?
        @Flag(inversion: .prefixedNo, help: "Whether a person must approve (--no-require-approval: pre-approved).") var requireApproval: Bool?
        @Option(help: "How long approval may take, e.g. 4h.") var approvalTimeout: String?
        @Option(help: "What happens then: rollback or approve.") var onTimeout: String?
        @Option(help: "After approval: continue (the strategy's steps) or promote (all at once).") var afterApproval: String?
        @Option(name: .customLong("approver"), help: "Who may approve (repeatable); replaces the list.") var approvers: [String] = []
        @Flag(help: "Anyone with a link may approve.") var anyApprover = false
        @Option(help: "slack:URL or webhook:URL (repeatable); replaces the targets.") var notify: [String] = []
        @Flag(help: "Remove every notification target.") var noNotify = false
        @OptionGroup var endpoint: EndpointOptions

        struct Body: Encodable {
            var strategy: String?
            var canaryWeight: Double?
            var requireApproval: Bool?
            var approvalTimeout: String?
            var onTimeout: String?
            var afterApproval: String?
            var approvers: [String]?
            var notify: [String]?
        }

        func validate() throws {
            try validateName(name)
            do {
                if let strategy, !strategy.isEmpty { _ = try Strategy.parse(strategy) }
                for target in notify { _ = try NotificationTarget.parse(target) }
            } catch { throw ValidationError(error.message) }
            if let canaryWeight, !(0..<1).contains(canaryWeight) {
                throw ValidationError("--canary-weight is a share from 0 to below 1 (0.1 is 10%), not \(canaryWeight)")
            }
            if let approvalTimeout, DurationText.milliseconds(approvalTimeout) == nil {
                throw ValidationError("--approval-timeout is a duration such as 30m or 24h, not \(approvalTimeout)")
            }
            if let onTimeout, ApprovalGate.TimeoutAction(rawValue: onTimeout) == nil {
                throw ValidationError("--on-timeout is rollback or approve, not \(onTimeout)")
            }
            if let afterApproval, ApprovalGate.AfterApproval(rawValue: afterApproval) == nil {
                throw ValidationError("--after-approval is continue or promote, not \(afterApproval)")
            }
            if anyApprover && !approvers.isEmpty { throw ValidationError("--any-approver and --approver exclude each other") }
            if noNotify && !notify.isEmpty { throw ValidationError("--no-notify and --notify exclude each other") }
        }

        func run() async throws {
            let body = Body(
                strategy: strategy, canaryWeight: canaryWeight, requireApproval: requireApproval, approvalTimeout: approvalTimeout,
                onTimeout: onTimeout, afterApproval: afterApproval,
                approvers: anyApprover ? [] : approvers.isEmpty ? nil : approvers, notify: noNotify ? [] : notify.isEmpty ? nil : notify)
            let client = try endpoint.client()
            let view = try await call {
                try await client.send("PUT", "v1/environments/\(name)", body: try JSONEncoder().encode(body), as: View.self)
            }
            view.lines.forEach(emit)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an environment (dev, qa and prod go back to their defaults).")
        @Argument(help: "The environment.") var name: String
        @OptionGroup var endpoint: EndpointOptions

        func run() async throws {
            try validateName(name)
            let client = try endpoint.client()
            let (status, data, _) = try await client.raw("DELETE", "v1/environments/\(name)", body: nil)
            guard status == 204 else {
                throw CleanExit.failure(String(decoding: data.prefix(500), as: UTF8.self))
            }
            emit("deleted environment \(name)")
        }
    }
}

private func validateName(_ name: String) throws {
    do { try EnvironmentPolicy.validateName(name) } catch { throw ValidationError(error.message) }
}

/// Runs an API call; a refusal is printed as a clean error (exit 2 for bad input, 1 otherwise).
private func call<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch let failure as APIClient.Failure {
        if failure.isUsageError { throw ValidationError(failure.description) }
        throw CleanExit.failure(failure.description)
    }
}
