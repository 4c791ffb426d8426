extension AliasRouting {
    /// Validates `AdditionalVersionWeights` as a client sent it, with AWS's order of checks: field constraints
    /// (key pattern, weight range) first, then the semantic rules that need the alias's primary version.
    ///
    /// - Returns: nil when the map is empty (routing cleared).
    public static func validated(
        weights: [String: Double], primary: VersionSelector, in function: LambdaFunction, scope: AccountScope
    ) throws(LambdaError) -> AliasRouting? {
        let field = "routingConfig.additionalVersionWeights"
        let rendered = render(weights)
        if weights.keys.contains(where: { $0.isEmpty || $0.count > 1024 || !$0.allSatisfy(\.isASCIIDigit) }) {
            throw .validation(
                value: rendered, field: field,
                constraint: "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
                    + "Member must have length greater than or equal to 1, "
                    + "Member must satisfy regular expression pattern: [0-9]+]")
        }
        if weights.values.contains(where: { Weight($0) == nil }) {
            throw .validation(
                value: rendered, field: field,
                constraint: "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
                    + "Member must have value greater than or equal to 0.0, Member must not be null]")
        }
        guard weights.count <= 1 else {
            throw .invalidParameterValue("Number of items in AdditionalVersionWeights cannot be greater than 1")
        }
        guard let (key, value) = weights.first else { return nil }
        guard case .published(let primaryNumber) = primary else {
            throw .invalidParameterValue("$LATEST is not supported for an alias pointing to more than 1 version")
        }
        guard let additional = VersionNumber(key), let additionalVersion = function.versions[additional] else {
            throw .functionNotFound(scope.functionARN(function.name, qualifier: key))
        }
        guard additional != primaryNumber else {
            throw .invalidParameterValue(
                "Invalid function version \(additional). Function version \(additional) is already included in "
                    + "routing configuration.")
        }
        if let primaryVersion = function.versions[primaryNumber],
            primaryVersion.configuration.role != additionalVersion.configuration.role
        {
            throw .invalidParameterValue("Specified versions must be associated with the same execution role")
        }
        return AliasRouting(additionalVersion: additional, weight: Weight(value)!)
    }

    /// Java's `Map.toString()`, which AWS puts in its messages: `{2=0.5}`.
    static func render(_ weights: [String: Double]) -> String {
        "{" + weights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}"
    }

    /// Picks the version one invocation runs: the additional version with probability `weight`.
    ///
    /// - Parameter draw: a uniform random number in [0, 1), supplied by the caller.
    public func pick(primary: VersionSelector, draw: Double) -> VersionSelector {
        draw < weight.value ? .published(additionalVersion) : primary
    }
}
