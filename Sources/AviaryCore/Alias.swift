/// A named pointer to a primary version, optionally sending a weighted share of traffic to one more version.
public struct Alias: Sendable, Hashable, Codable {
    public let name: AliasName
    public var functionVersion: VersionSelector
    public var description: String
    public var routing: AliasRouting?
    public var revisionId: String
    /// Aviary's sticky routing (not part of AWS's alias): nil draws each request at random.
    public var sticky: StickyRouting?

    public init(
        name: AliasName, functionVersion: VersionSelector, description: String = "", routing: AliasRouting? = nil,
        revisionId: String, sticky: StickyRouting? = nil
    ) {
        self.name = name
        self.functionVersion = functionVersion
        self.description = description
        self.routing = routing
        self.revisionId = revisionId
        self.sticky = sticky
    }

    /// Whether deleting `version` would leave this alias dangling.
    public func references(_ version: VersionNumber) -> Bool {
        functionVersion == .published(version) || routing?.additionalVersion == version
    }
}

/// `RoutingConfig.AdditionalVersionWeights` with its single entry.
public struct AliasRouting: Sendable, Hashable, Codable {
    public let additionalVersion: VersionNumber
    public let weight: Weight

    public init(additionalVersion: VersionNumber, weight: Weight) {
        self.additionalVersion = additionalVersion
        self.weight = weight
    }
}
