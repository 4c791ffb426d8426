extension LambdaFunction {
    /// Creates an alias (CreateAlias).
    public mutating func createAlias(
        name: AliasName, functionVersion: String, description: String?, weights: [String: Double]?,
        scope: AccountScope, context: ChangeContext
    ) throws(LambdaError) -> Alias {
        let primary = try VersionSelector(validating: functionVersion, field: "functionVersion")
        try Self.validate(aliasDescription: description)
        guard aliases[name] == nil else {
            throw .resourceConflict("Alias already exists: \(scope.functionARN(self.name, qualifier: name))")
        }
        try requireVersion(primary, scope: scope)
        let routing = try weights.flatMap { weights throws(LambdaError) in
            try AliasRouting.validated(weights: weights, primary: primary, in: self, scope: scope)
        }
        let alias = Alias(
            name: name, functionVersion: primary, description: description ?? "", routing: routing,
            revisionId: context.newRevisionId())
        aliases[name] = alias
        return alias
    }

    /// Updates an alias (UpdateAlias). Omitted fields keep their value; the RevisionId rotates even when
    /// nothing else changes. An empty weights map clears the routing.
    public mutating func updateAlias(
        name: AliasName, functionVersion: String?, description: String?, weights: [String: Double]?,
        expectedRevisionId: String?, scope: AccountScope, context: ChangeContext
    ) throws(LambdaError) -> Alias {
        let newPrimary = try functionVersion.map { version throws(LambdaError) in
            try VersionSelector(validating: version, field: "functionVersion")
        }
        try Self.validate(aliasDescription: description)
        guard var alias = aliases[name] else {
            throw .resourceNotFound("Alias not found: \(scope.functionARN(self.name, qualifier: name))")
        }
        if let expectedRevisionId, expectedRevisionId != alias.revisionId {
            throw .revisionMismatch()
        }
        let primary = newPrimary ?? alias.functionVersion
        try requireVersion(primary, scope: scope)
        if let weights {
            alias.routing = try AliasRouting.validated(weights: weights, primary: primary, in: self, scope: scope)
        } else if let routing = alias.routing {
            // The kept routing must still make sense with the new primary.
            alias.routing = try AliasRouting.validated(
                weights: [routing.additionalVersion.description: routing.weight.value], primary: primary, in: self,
                scope: scope)
        }
        alias.functionVersion = primary
        if let description { alias.description = description }
        alias.revisionId = context.newRevisionId()
        aliases[name] = alias
        return alias
    }

    /// Deletes an alias (DeleteAlias) and its function URL; a missing alias is not an error.
    public mutating func deleteAlias(name: AliasName) {
        aliases[name] = nil
        urlConfigs[name] = nil
        eventInvokeConfigs[.alias(name)] = nil
    }

    func requireVersion(_ selector: VersionSelector, scope: AccountScope) throws(LambdaError) {
        guard configuration(of: selector) != nil else {
            throw .functionNotFound(scope.functionARN(name, qualifier: selector))
        }
    }

    static func validate(aliasDescription: String?) throws(LambdaError) {
        if let aliasDescription, aliasDescription.count > 256 {
            throw .tooLong(value: aliasDescription, field: "description", max: 256)
        }
    }
}
