import AviaryCore
import AviaryStore
import Foundation
import Hummingbird

/// The function URL configuration API (`2021-10-31`): which function URLs exist, who may call them, and
/// their CORS rules. The URLs themselves are served by `FunctionURLs`.
extension LambdaAPI {
    func addURLRoutes(to router: Router<LambdaRequestContext>) {
        let functions = router.group("2021-10-31/functions")
        functions.post(":name/url", use: createFunctionURLConfig)
        functions.get(":name/url", use: getFunctionURLConfig)
        functions.put(":name/url", use: updateFunctionURLConfig)
        functions.delete(":name/url", use: deleteFunctionURLConfig)
        functions.get(":name/urls", use: listFunctionURLConfigs)
    }

    /// The function and the alias a URL belongs to: `?Qualifier=` (or `name:alias`) names an alias; a
    /// version number or `$LATEST` is refused, as Lambda refuses it.
    func urlTarget(_ request: Request, _ context: LambdaRequestContext) throws -> (FunctionName, AliasName?) {
        let id = try identifier(context)
        let raw = request.uri.queryParameters.get("Qualifier").flatMap { $0.isEmpty ? nil : $0 }
        var alias: AliasName?
        if let raw {
            guard case .alias(let name) = try Qualifier(validating: raw) else {
                throw LambdaError.patternMismatch(value: raw, field: "qualifier", pattern: "((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
            }
            alias = name
        }
        switch (id.qualifier, alias) {
        case (nil, _): return (id.name, alias)
        case (.alias(let name)?, nil): return (id.name, name)
        case (.alias(let name)?, let other?) where name == other: return (id.name, name)
        case (.alias?, _?):
            throw LambdaError.invalidParameterValue("The derived qualifier from the function name does not match the specified qualifier.")
        case (.version(let version)?, _):
            throw LambdaError.patternMismatch(value: version.description, field: "qualifier", pattern: "((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
        }
    }

    @Sendable func createFunctionURLConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let (name, alias) = try urlTarget(request, context)
        let body = try await body(FunctionURLConfigBody.self, of: request, operation: "CreateFunctionUrlConfig")
        guard let rawAuthType = body.AuthType else {
            throw LambdaError.validation(value: "null", field: "authType", constraint: "Member must not be null")
        }
        let authType = try FunctionURLConfig.authType(validating: rawAuthType)
        let (cors, mode, scope) = (body.Cors?.cors, body.InvokeMode, scope)
        let config = try await store.update(name, scope: scope, audit: audit("CreateFunctionUrlConfig", context, function: name, alias: alias)) { function, change in
            try function.createURLConfig(alias: alias, authType: authType, cors: cors, invokeMode: mode, scope: scope, at: change.now)
        }
        return try json(FunctionURLConfigWire(config, function: name, alias: alias, scope: scope, request: request, withModified: false), status: .created)
    }

    @Sendable func getFunctionURLConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let (name, alias) = try urlTarget(request, context)
        let config = try store.registry.function(name, scope: scope).urlConfig(alias: alias, scope: scope)
        return try json(FunctionURLConfigWire(config, function: name, alias: alias, scope: scope, request: request))
    }

    @Sendable func updateFunctionURLConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let (name, alias) = try urlTarget(request, context)
        let body = try await body(FunctionURLConfigBody.self, of: request, operation: "UpdateFunctionUrlConfig")
        let authType = try body.AuthType.map { raw throws(LambdaError) in try FunctionURLConfig.authType(validating: raw) }
        let (cors, mode, scope) = (body.Cors?.cors, body.InvokeMode, scope)
        let config = try await store.update(name, scope: scope, audit: audit("UpdateFunctionUrlConfig", context, function: name, alias: alias)) { function, change in
            try function.updateURLConfig(alias: alias, authType: authType, cors: cors, invokeMode: mode, scope: scope, at: change.now)
        }
        return try json(FunctionURLConfigWire(config, function: name, alias: alias, scope: scope, request: request))
    }

    @Sendable func deleteFunctionURLConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let (name, alias) = try urlTarget(request, context)
        let scope = scope
        try await store.update(name, scope: scope, audit: audit("DeleteFunctionUrlConfig", context, function: name, alias: alias)) { function, _ in
            try function.deleteURLConfig(alias: alias, scope: scope)
        }
        return Response(status: .noContent)
    }

    @Sendable func listFunctionURLConfigs(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let query = request.uri.queryParameters
        let function = try store.registry.function(name, scope: scope)
        let targets = function.urlConfigs.keys.sorted { ($0?.rawValue ?? "") < ($1?.rawValue ?? "") }
        let page = try Page.slice(targets, key: { $0?.rawValue ?? "" }, marker: query.get("Marker"), maxItems: try maxItems(query))
        return try json(ListFunctionURLConfigsWire(
            FunctionUrlConfigs: page.items.compactMap { alias in
                function.urlConfigs[alias].map { FunctionURLConfigWire($0, function: name, alias: alias, scope: scope, request: request) }
            },
            NextMarker: page.nextMarker))
    }
}

struct FunctionURLConfigBody: Decodable {
    var AuthType: String?
    var Cors: CorsWire?
    var InvokeMode: String?
}

struct CorsWire: Codable {
    var AllowCredentials: Bool?
    var AllowHeaders: [String]?
    var AllowMethods: [String]?
    var AllowOrigins: [String]?
    var ExposeHeaders: [String]?
    var MaxAge: Int?

    var cors: FunctionURLConfig.Cors {
        .init(
            allowCredentials: AllowCredentials, allowHeaders: AllowHeaders, allowMethods: AllowMethods,
            allowOrigins: AllowOrigins, exposeHeaders: ExposeHeaders, maxAge: MaxAge)
    }

    init(_ cors: FunctionURLConfig.Cors) {
        AllowCredentials = cors.allowCredentials
        AllowHeaders = cors.allowHeaders
        AllowMethods = cors.allowMethods
        AllowOrigins = cors.allowOrigins
        ExposeHeaders = cors.exposeHeaders
        MaxAge = cors.maxAge
    }
}

struct FunctionURLConfigWire: Encodable {
    var FunctionUrl: String
    var FunctionArn: String
    var AuthType: String
    var Cors: CorsWire?
    var CreationTime: String
    var LastModifiedTime: String?
    var InvokeMode: String

    /// The URL is built from the address the caller reached the server at (its `Host`).
    init(
        _ config: FunctionURLConfig, function: FunctionName, alias: AliasName?, scope: AccountScope, request: Request,
        withModified: Bool = true
    ) {
        let host = request.head.authority ?? "127.0.0.1"
        FunctionUrl = "http://\(host)\(FunctionURLs.path(function: function, alias: alias))"
        FunctionArn = alias.map { scope.functionARN(function, qualifier: $0) } ?? scope.functionARN(function)
        AuthType = config.authType.rawValue
        Cors = config.cors.map(CorsWire.init)
        CreationTime = config.creationTime.description
        LastModifiedTime = withModified ? config.lastModifiedTime.description : nil
        InvokeMode = config.invokeMode
    }
}

struct ListFunctionURLConfigsWire: Encodable {
    var FunctionUrlConfigs: [FunctionURLConfigWire]
    var NextMarker: String?
}
