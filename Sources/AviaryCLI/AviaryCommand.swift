public import ArgumentParser
import Foundation

/// `aviary`: the command line of Aviary.
public struct AviaryCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "aviary",
        abstract: "A self-hosted serverless function platform with the AWS Lambda API and safe releases.",
        // No `version:` here: ArgumentParser would then read any unparsable line holding `--version`
        // (such as `aviary deploy f --version 2` without --alias) as a request for Aviary's version.
        discussion: "`aviary --version` prints the version.",
        subcommands: [
            Serve.self, Deploy.self, Status.self, Approve.self, Promote.self, Pause.self, Resume.self, Rollback.self, Retry.self, History.self, Audit.self,
            Environments.self, Releases.self, Logs.self, Demo.self,
        ])

    public init() {}
}

extension AviaryCommand {
    /// Parses the process arguments and runs the chosen command, awaiting async ones.
    public static func runAsRoot(_ arguments: [String]? = nil) async {
        let given = arguments ?? Array(CommandLine.arguments.dropFirst())
        if given == ["--version"] {
            emit(version)
            return
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await run(&asyncCommand)
            } else {
                try command.run()
            }
        } catch {
            // Usage errors exit 2 (what `deploy --wait` promises scripts), not ArgumentParser's 64.
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }

    /// Generic so that `run()` resolves to the async requirement, not `ParsableCommand`'s synchronous one.
    private static func run<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
        try await command.run()
    }
}
