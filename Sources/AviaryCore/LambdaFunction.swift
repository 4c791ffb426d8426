/// A function with its mutable `$LATEST`, its published versions and its aliases.
///
/// All rules of the Lambda control plane that concern one function live in extensions of this value
/// type (`LambdaFunction+Versions.swift`, `LambdaFunction+Aliases.swift`): pure mutations that either
/// succeed completely or throw before changing anything.
public struct LambdaFunction: Sendable, Hashable, Codable {
    public let name: FunctionName
    public var latest: FunctionConfiguration
    public var versions: [VersionNumber: PublishedVersion]
    public var aliases: [AliasName: Alias]
    /// The highest number ever published, kept after that version is deleted so numbers are never reused.
    public var lastVersionNumber: Int
    public var tags: [String: String]
    /// `ReservedConcurrentExecutions`: at most this many invocations at once (0 stops the function).
    public var reservedConcurrency: Int?
    /// Function URL configurations: the function's own (key nil) and its aliases'.
    public var urlConfigs: [AliasName?: FunctionURLConfig]
    /// Asynchronous invocation settings per version (`$LATEST` for unqualified calls) and alias.
    public var eventInvokeConfigs: [Qualifier: EventInvokeConfig]

    public init(
        name: FunctionName, latest: FunctionConfiguration, versions: [VersionNumber: PublishedVersion] = [:],
        aliases: [AliasName: Alias] = [:], lastVersionNumber: Int = 0, tags: [String: String] = [:],
        reservedConcurrency: Int? = nil, urlConfigs: [AliasName?: FunctionURLConfig] = [:],
        eventInvokeConfigs: [Qualifier: EventInvokeConfig] = [:]
    ) {
        self.name = name
        self.latest = latest
        self.versions = versions
        self.aliases = aliases
        self.lastVersionNumber = lastVersionNumber
        self.tags = tags
        self.reservedConcurrency = reservedConcurrency
        self.urlConfigs = urlConfigs
        self.eventInvokeConfigs = eventInvokeConfigs
    }

    /// The configuration of `$LATEST` or of a published version; nil if that version does not exist.
    public func configuration(of selector: VersionSelector) -> FunctionConfiguration? {
        switch selector {
        case .latest: latest
        case .published(let number): versions[number]?.configuration
        }
    }

    /// Published versions in ascending order.
    public var sortedVersions: [PublishedVersion] {
        versions.values.sorted { $0.number < $1.number }
    }

    /// What a qualifier names, for reads and invokes.
    public struct Resolution: Sendable, Hashable {
        /// The version whose configuration answers (an alias's primary version).
        public let version: VersionSelector
        public let configuration: FunctionConfiguration
        /// Set when the qualifier was an alias.
        public let alias: Alias?
    }

    /// Resolves `$LATEST`, a version number or an alias; 404 `Function not found: <arn>` otherwise.
    public func resolve(_ qualifier: Qualifier?, scope: AccountScope) throws(LambdaError) -> Resolution {
        switch qualifier {
        case nil, .version(.latest)?:
            return Resolution(version: .latest, configuration: latest, alias: nil)
        case .version(let selector)?:
            guard let configuration = configuration(of: selector) else {
                throw .functionNotFound(scope.functionARN(name, qualifier: selector))
            }
            return Resolution(version: selector, configuration: configuration, alias: nil)
        case .alias(let aliasName)?:
            guard let alias = aliases[aliasName], let configuration = configuration(of: alias.functionVersion) else {
                throw .functionNotFound(scope.functionARN(name, qualifier: aliasName))
            }
            return Resolution(version: alias.functionVersion, configuration: configuration, alias: alias)
        }
    }

    /// Creates a function from validated settings and checked code (CreateFunction).
    ///
    /// - Returns: the function and, with `publish`, the version created with it.
    public static func create(
        name: FunctionName, settings: FunctionSettings, code: CodeArtifact, tags: [String: String] = [:],
        publish: Bool, context: ChangeContext
    ) throws(LambdaError) -> (function: LambdaFunction, published: PublishedVersion?) {
        let latest = try settings.newConfiguration(code: code, at: context.now, revisionId: context.newRevisionId())
        var function = LambdaFunction(name: name, latest: latest, tags: tags)
        let published = publish ? try function.publishVersion(context: context) : nil
        return (function, published)
    }

    /// Replaces the code of `$LATEST` (UpdateFunctionCode).
    ///
    /// - Returns: the version published with it when `publish` is set.
    public mutating func updateCode(
        _ code: CodeArtifact, architectures: [String]?, expectedRevisionId: String?, publish: Bool,
        context: ChangeContext
    ) throws(LambdaError) -> PublishedVersion? {
        try checkRevision(expectedRevisionId)
        if let architectures { latest.architecture = try FunctionSettings.architecture(from: architectures) }
        latest.code = code
        touchLatest(context)
        return publish ? try publishVersion(context: context) : nil
    }

    /// Changes settings of `$LATEST` (UpdateFunctionConfiguration).
    public mutating func updateConfiguration(
        _ settings: FunctionSettings, expectedRevisionId: String?, context: ChangeContext
    ) throws(LambdaError) {
        try checkRevision(expectedRevisionId)
        var updated = latest
        try settings.apply(to: &updated)
        latest = updated
        touchLatest(context)
    }

    func checkRevision(_ expected: String?) throws(LambdaError) {
        if let expected, expected != latest.revisionId { throw .revisionMismatch() }
    }

    mutating func touchLatest(_ context: ChangeContext) {
        latest.lastModified = context.now
        latest.revisionId = context.newRevisionId()
    }
}
