import AviaryCore
import AviaryStore
import Hummingbird

extension LambdaAPI {
    @Sendable func createAlias(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let body = try await body(CreateAliasBody.self, of: request, operation: "CreateAlias")
        guard let rawAlias = body.Name else {
            throw LambdaError.validation(value: "null", field: "name", constraint: "Member must not be null")
        }
        guard let functionVersion = body.FunctionVersion else {
            throw LambdaError.validation(value: "null", field: "functionVersion", constraint: "Member must not be null")
        }
        let aliasName = try AliasName(validating: rawAlias)
        let (description, weights, scope) = (body.Description, body.RoutingConfig?.AdditionalVersionWeights, scope)
        let alias = try await store.update(name, scope: scope, audit: audit("CreateAlias", context, function: name, alias: aliasName)) { function, context in
            try function.createAlias(
                name: aliasName, functionVersion: functionVersion, description: description, weights: weights,
                scope: scope, context: context)
        }
        return try json(AliasConfigurationWire(alias, function: name, scope: scope), status: .created)
    }

    @Sendable func getAlias(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let aliasName = try aliasName(context)
        let function = try store.registry.function(name, scope: scope)
        guard let alias = function.aliases[aliasName] else {
            throw LambdaError.resourceNotFound("Cannot find alias arn: \(scope.functionARN(name, qualifier: aliasName))")
        }
        return try json(AliasConfigurationWire(alias, function: name, scope: scope))
    }

    @Sendable func updateAlias(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let aliasName = try aliasName(context)
        let body = try await body(UpdateAliasBody.self, of: request, operation: "UpdateAlias")
        let (functionVersion, description, revisionId) = (body.FunctionVersion, body.Description, body.RevisionId)
        let (weights, scope) = (body.RoutingConfig.map { $0.AdditionalVersionWeights ?? [:] }, scope)
        let alias = try await store.update(name, scope: scope, audit: audit("UpdateAlias", context, function: name, alias: aliasName)) { function, context in
            try function.updateAlias(
                name: aliasName, functionVersion: functionVersion, description: description, weights: weights,
                expectedRevisionId: revisionId, scope: scope, context: context)
        }
        return try json(AliasConfigurationWire(alias, function: name, scope: scope))
    }

    @Sendable func deleteAlias(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let aliasName = try aliasName(context)
        try await store.update(name, scope: scope, audit: audit("DeleteAlias", context, function: name, alias: aliasName)) { function, _ in function.deleteAlias(name: aliasName) }
        return Response(status: .noContent)
    }

    @Sendable func listAliases(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let query = request.uri.queryParameters
        let filter = try query.get("FunctionVersion").map { raw throws(LambdaError) in
            try VersionSelector(validating: raw, field: "functionVersion")
        }
        let function = try store.registry.function(name, scope: scope)
        let aliases = function.aliases.values
            .filter { filter == nil || $0.functionVersion == filter }
            .sorted { $0.name < $1.name }
        let page = try Page.slice(aliases, key: \.name.rawValue, marker: query.get("Marker"), maxItems: try maxItems(query))
        return try json(
            ListAliasesWire(
                Aliases: page.items.map { AliasConfigurationWire($0, function: name, scope: scope) },
                NextMarker: page.nextMarker))
    }
}
