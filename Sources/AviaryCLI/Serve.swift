public import ArgumentParser
public import AviaryCore
import AviaryEngine
import AviaryRuntime
public import AviaryServer
import AviaryStore
public import Foundation
import Hummingbird
public import Logging

/// `aviary serve`: runs the API until SIGINT or SIGTERM.
public struct Serve: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Run the Aviary server (AWS Lambda API on a loopback port, state in a local data dir).",
        discussion: """
            Every option can also be set through its environment variable; a flag wins over the variable.
              AVIARY_HOST, AVIARY_PORT, AVIARY_DATA_DIR, AVIARY_REGION, AVIARY_ACCOUNT_ID, AVIARY_LOG_LEVEL,
              AVIARY_ASYNC_RETRY_DELAY, AVIARY_MAX_CONCURRENCY, AVIARY_IDLE_TIMEOUT, AVIARY_AUTH, AVIARY_INSECURE,
              AVIARY_PUBLIC_URL, AVIARY_APPROVAL_NETWORKS, AVIARY_NOTIFY_RETRY_DELAYS

            Without --auth the API is open to anyone who can reach it, so Aviary then listens only on a loopback
            address unless --insecure is given. docs/auth.md describes the keys file.
            """)

    public static let defaultPort = 2842  // "AVIA" on a phone keypad
    public static let defaultDataDir = ".aviary"

    @Option(help: "Address to listen on. (env: AVIARY_HOST, default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one. (env: AVIARY_PORT, default: \(Serve.defaultPort))")
    var port: Int?

    @Option(help: "Folder for the database and code archives, created if missing. (env: AVIARY_DATA_DIR, default: ./\(Serve.defaultDataDir))")
    var dataDir: String?

    @Option(help: "Region shown in ARNs. (env: AVIARY_REGION, default: us-east-1)")
    var region: String?

    @Option(help: "Account id shown in ARNs. (env: AVIARY_ACCOUNT_ID, default: 123456789012)")
    var accountId: String?

    @Option(help: "Seconds before the first retry of a failed Event invocation; the second waits twice as long. (env: AVIARY_ASYNC_RETRY_DELAY, default: 60, as AWS)")
    var asyncRetryDelay: Int?

    @Option(help: "Invocations running at once across all functions; more are throttled with 429. (env: AVIARY_MAX_CONCURRENCY, default: 1000, as AWS's account limit)")
    var maxConcurrency: Int?

    @Option(help: "Seconds an idle execution environment is kept warm before it is stopped. (env: AVIARY_IDLE_TIMEOUT, default: 300)")
    var idleTimeout: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical; debug logs one line per request. (env: AVIARY_LOG_LEVEL, default: info)")
    var logLevel: String?

    @Option(help: "JSON file of access keys and bearer tokens: the API then requires an AWS SigV4 signature or a token (see docs/auth.md). (env: AVIARY_AUTH)")
    var auth: String?

    @Flag(help: "Allow listening on a non-loopback address without --auth, open to anyone who can reach it. (env: AVIARY_INSECURE=1)")
    var insecure = false

    @Option(help: "The address people reach this server at, used in approval links (e.g. https://aviary.example.com). (env: AVIARY_PUBLIC_URL, default: the listening address)")
    var publicUrl: String?

    @Option(help: "Client networks allowed to use approval links, comma-separated CIDRs (e.g. 10.0.0.0/8,192.168.1.7). (env: AVIARY_APPROVAL_NETWORKS, default: any)")
    var approvalNetworks: String?

    @Option(help: "Seconds between attempts to deliver a notification, comma-separated. (env: AVIARY_NOTIFY_RETRY_DELAYS, default: 1,5,30,120)")
    var notifyRetryDelays: String?

    public init() {}

    /// The options after applying environment variables and defaults.
    public struct Settings: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var dataDir: URL
        public var scope: AccountScope
        public var logLevel: Logger.Level
        public var asyncRetryDelay: Duration
        public var maxConcurrency: Int
        public var idleTimeout: Duration
        /// The keys and tokens the API requires; `nil`: the API is open.
        public var auth: AuthKeys?
        /// Listening on a non-loopback address without `auth` was allowed explicitly.
        public var insecure: Bool
        /// Where approval links point; nil: the listening address.
        public var publicURL: String?
        /// Client networks allowed to use approval links; empty: any.
        public var approvalNetworks: [IPNetwork] = []
        public var notifyRetryDelays: [Duration] = Self.defaultNotifyRetryDelays

        public static let defaultNotifyRetryDelays: [Duration] = [.seconds(1), .seconds(5), .seconds(30), .seconds(120)]
    }

    public func settings(environment: [String: String]) throws -> Settings {
        let host = self.host ?? environment["AVIARY_HOST"] ?? "127.0.0.1"
        let port = try Self.integer(self.port, "AVIARY_PORT", default: Self.defaultPort, in: 0...65535, environment)
        let dataDir = URL(
            fileURLWithPath: self.dataDir ?? environment["AVIARY_DATA_DIR"] ?? Self.defaultDataDir,
            relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        ).standardizedFileURL
        let region = self.region ?? environment["AVIARY_REGION"] ?? "us-east-1"
        let account = self.accountId ?? environment["AVIARY_ACCOUNT_ID"] ?? "123456789012"
        guard account.count == 12, account.allSatisfy(\.isNumber) else {
            throw ValidationError("the account id must be 12 digits, not '\(account)'")
        }
        let levelText = self.logLevel ?? environment["AVIARY_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError("unknown log level '\(levelText)'")
        }
        let retryDelay = try Self.integer(asyncRetryDelay, "AVIARY_ASYNC_RETRY_DELAY", default: 60, in: 0...86_400, environment)
        let maxConcurrency = try Self.integer(
            self.maxConcurrency, "AVIARY_MAX_CONCURRENCY", default: 1000, in: 1...100_000, environment)
        let idleTimeout = try Self.integer(self.idleTimeout, "AVIARY_IDLE_TIMEOUT", default: 300, in: 1...86_400, environment)
        var auth: AuthKeys?
        if let path = self.auth ?? environment["AVIARY_AUTH"] {
            do {
                auth = try AuthKeys(contentsOf: URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)))
            } catch {
                throw ValidationError(error.message)
            }
        }
        let insecure = try self.insecure || Self.boolean(environment["AVIARY_INSECURE"], "AVIARY_INSECURE")
        guard auth != nil || insecure || Self.isLoopback(host) else {
            throw ValidationError(
                "refusing to listen on \(host) without authentication: anyone who can reach it could change and run functions. "
                    + "Start with --auth keys.json (see docs/auth.md), or pass --insecure to accept an open API.")
        }
        var settings = Settings(
            host: host, port: port, dataDir: dataDir, scope: AccountScope(region: region, accountID: account),
            logLevel: level, asyncRetryDelay: .seconds(retryDelay), maxConcurrency: maxConcurrency,
            idleTimeout: .seconds(idleTimeout), auth: auth, insecure: insecure)
        if let text = publicUrl ?? environment["AVIARY_PUBLIC_URL"] {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil, url.query == nil else {
                throw ValidationError("the public URL must be an http(s) URL such as https://aviary.example.com, not '\(text)'")
            }
            settings.publicURL = text
        }
        if let text = approvalNetworks ?? environment["AVIARY_APPROVAL_NETWORKS"], !text.isEmpty {
            settings.approvalNetworks = try text.split(separator: ",").map { part in
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                guard let network = IPNetwork(trimmed) else {
                    throw ValidationError("'\(trimmed)' is not a network such as 10.0.0.0/8, 192.168.1.7 or fd00::/8 (AVIARY_APPROVAL_NETWORKS)")
                }
                return network
            }
        }
        if let text = notifyRetryDelays ?? environment["AVIARY_NOTIFY_RETRY_DELAYS"] {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            settings.notifyRetryDelays = try parts.map { part in
                guard let seconds = Double(part.trimmingCharacters(in: .whitespaces)), seconds >= 0, seconds <= 86_400 else {
                    throw ValidationError("the notification retry delays are seconds, comma-separated (e.g. 1,5,30), not '\(text)'")
                }
                return .milliseconds(Int64((seconds * 1000).rounded()))
            }
            guard parts.count <= 20 else { throw ValidationError("at most 20 notification retries") }
        }
        return settings
    }

    /// Whether `host` names this machine only: `localhost`, `::1` or an address in 127.0.0.0/8.
    static func isLoopback(_ host: String) -> Bool {
        if ["localhost", "::1", "[::1]"].contains(host.lowercased()) { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// An environment switch: 1/true/yes or 0/false/no (or unset).
    static func boolean(_ text: String?, _ variable: String) throws -> Bool {
        switch text?.lowercased() {
        case nil, "", "0", "false", "no": return false
        case "1", "true", "yes": return true
        case let other?: throw ValidationError("\(variable) must be 1 or 0, not '\(other)'")
        }
    }

    /// A number from its flag, else its environment variable, else the default; refused outside `range`.
    static func integer(
        _ flag: Int?, _ variable: String, default value: Int, in range: ClosedRange<Int>, _ environment: [String: String]
    ) throws -> Int {
        var result = value
        if let flag {
            result = flag
        } else if let text = environment[variable] {
            guard let parsed = Int(text) else { throw ValidationError("\(variable) must be a number, not '\(text)'") }
            result = parsed
        }
        guard range.contains(result) else {
            throw ValidationError("\(result) is outside \(range.lowerBound)...\(range.upperBound) (\(variable))")
        }
        return result
    }

    public func run() async throws {
        let settings = try settings(environment: ProcessInfo.processInfo.environment)
        var logger = Logger(label: "aviary", factory: ServerLogHandler.init(label:))
        logger.logLevel = settings.logLevel

        let dataDir = try DataDirectory.open(settings.dataDir)
        let store = try RegistryStore.open(path: dataDir.databasePath)
        let code = try CodeStore(root: dataDir.codeRoot)
        let runtime = try FunctionRuntime(
            settings: RuntimeSettings(
                dataDirectory: settings.dataDir, scope: settings.scope, idleTimeout: settings.idleTimeout,
                maxConcurrency: settings.maxConcurrency),
            code: code, logger: logger)
        let events = EventQueue(
            store: store, runtime: runtime, scope: settings.scope, retryDelay: settings.asyncRetryDelay, logger: logger)
        let signer = try LinkSigner.loadOrCreate(secretFile: dataDir.approvalSecretPath)
        let notifier = Notifier(logger: logger, retryDelays: settings.notifyRetryDelays)
        let engine = DeploymentEngine(
            store: store, runtime: runtime, events: events, scope: settings.scope, logger: logger, signer: signer, notifier: notifier)
        let router = buildRouter(
            store: store, code: code, runtime: runtime, events: events, engine: engine, scope: settings.scope,
            auth: settings.auth, approvalNetworks: settings.approvalNetworks)
        let invokeAPI = LambdaAPI(store: store, code: code, runtime: runtime, events: events, scope: settings.scope)
        let app = Application(
            router: router,
            server: aviaryHTTPServer(api: invokeAPI, auth: settings.auth, logger: logger),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "aviary"),
            // Stopped in reverse order: the engine before the notifier, so its last announcements go out.
            services: [runtime, events, notifier, engine],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                runtime.setAPIEndpoint(Self.url(host: settings.host, port: port))
                signer.baseURL = settings.publicURL ?? Self.url(host: settings.host, port: port)
                Self.printBanner(settings: settings, port: port, functions: store.registry.functions.count)
            },
            logger: logger)
        try await app.runService()
        withExtendedLifetime(dataDir) {}
        logger.info("aviary stopped")
    }

    static func url(host: String, port: Int) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    static func printBanner(settings: Settings, port: Int, functions: Int) {
        let url = url(host: settings.host, port: port)
        // Counts only: the keys file's secrets never reach the terminal or a log.
        let access =
            if let auth = settings.auth {
                """
                  auth        \(auth): the Lambda API requires SigV4, /v1 and /metrics a token or SigV4;
                              /health, function URLs (/url/…) and approval links are open
                """
            } else {
                """
                  WARNING     the API is unauthenticated: anyone who can reach \(url) can change and run functions.
                              Start with --auth keys.json to require SigV4 / bearer tokens (docs/auth.md).
                """
            }
        let banner = """
            Aviary \(AviaryCommand.version) listening on \(url)
              Lambda API  aws --endpoint-url \(url) lambda list-functions
              data        \(settings.dataDir.path) (\(functions) function\(functions == 1 ? "" : "s"))
              ARNs        region \(settings.scope.region), account \(settings.scope.accountID)
            \(access)
            """
        // Written in one call, unbuffered: scripts wait for this line to know the server is up.
        FileHandle.standardOutput.write(Data((banner + "\n").utf8))
    }
}
