public import AviaryCore
public import AviaryStore
import Foundation
public import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Aviary's alias option beyond AWS: sticky routing by a request key,
/// at `/v1/functions/{function}/aliases/{alias}/sticky-routing`.
public struct StickyRoutingAPI: Sendable {
    let store: RegistryStore
    let scope: AccountScope

    public init(store: RegistryStore, scope: AccountScope) {
        self.store = store
        self.scope = scope
    }

    public func addRoutes(to router: Router<LambdaRequestContext>) {
        let path = RouterPath("v1/functions/:function/aliases/:alias/sticky-routing")
        router.get(path, use: get)
        router.put(path, use: put)
        router.delete(path, use: delete)
    }

    struct Body: Codable {
        var function: String?
        var alias: String?
        /// `header:<name>`, `event:<field.path>`, `client-context:<field.path>`; null when off.
        var key: String?

        enum CodingKeys: String, CodingKey { case function, alias, key }

        /// `key` is written even when off (`null`), so clients need not tell "off" from "missing".
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(function, forKey: .function)
            try container.encodeIfPresent(alias, forKey: .alias)
            try container.encode(key, forKey: .key)
        }
    }

    @Sendable func get(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let (function, alias) = try names(context)
        guard let found = store.function(function)?.aliases[alias] else { throw Self.aliasNotFound(function, alias) }
        return try aviaryJSON(Body(function: function.rawValue, alias: alias.rawValue, key: found.sticky?.description))
    }

    @Sendable func put(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let (function, alias) = try names(context)
        let body = try await decodeAviaryBody(Body.self, of: request, limit: 64 * 1024)
        guard let key = body.key else {
            throw DeploymentError.invalidRequest(#"the body is {"key": "header:<name>" | "event:<field.path>" | "client-context:<field.path>"}"#)
        }
        let sticky = try StickyRouting(parsing: key)
        try await change(function, alias, to: sticky, request: context)
        return try aviaryJSON(Body(function: function.rawValue, alias: alias.rawValue, key: sticky.description))
    }

    @Sendable func delete(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let (function, alias) = try names(context)
        try await change(function, alias, to: nil, request: context)
        return try aviaryJSON(Body(function: function.rawValue, alias: alias.rawValue, key: nil))
    }

    /// Sets the option through the registry's write path (it rotates the alias's RevisionId: routing changed).
    func change(
        _ function: FunctionName, _ alias: AliasName, to sticky: StickyRouting?, request: LambdaRequestContext
    ) async throws {
        guard store.function(function)?.aliases[alias] != nil else { throw Self.aliasNotFound(function, alias) }
        let audit = AuditEvent(
            at: RegistryStore.systemNow(), actor: "anonymous", source: request.sourceIP,
            action: sticky == nil ? "DeleteStickyRouting" : "PutStickyRouting", function: function, alias: alias,
            details: ["requestId": request.requestID])
        do {
            try await store.update(function, scope: scope, audit: audit) { current, context in
                guard var found = current.aliases[alias] else { throw Self.aliasNotFound(function, alias) }
                found.sticky = sticky
                found.revisionId = context.newRevisionId()
                current.aliases[alias] = found
            }
        } catch is LambdaError {
            throw Self.aliasNotFound(function, alias)
        }
    }

    static func aliasNotFound(_ function: FunctionName, _ alias: AliasName) -> DeploymentError {
        .notFound("alias \(function):\(alias) does not exist")
    }

    func names(_ context: LambdaRequestContext) throws -> (FunctionName, AliasName) {
        let rawFunction = try context.parameters.require("function")
        let rawAlias = try context.parameters.require("alias")
        let function = try DeploymentsAPI.parse { () throws(LambdaError) in try FunctionName(validating: rawFunction, field: "function") }
        let alias = try DeploymentsAPI.parse { () throws(LambdaError) in try AliasName(validating: rawAlias, field: "alias") }
        return (function, alias)
    }
}
