public import ArgumentParser

/// `aviary`: the command line of Aviary.
public struct AviaryCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "aviary",
        abstract: "A self-hosted serverless function platform with the AWS Lambda API and safe releases.",
        version: version,
        subcommands: [Serve.self])

    public init() {}
}
