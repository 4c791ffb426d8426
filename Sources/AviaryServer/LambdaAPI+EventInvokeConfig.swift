import AviaryCore
import AviaryStore
import Foundation
import Hummingbird

/// Asynchronous invocation settings (`2019-09-25/…/event-invoke-config`): retries, maximum event age and
/// destinations per version or alias, applied by the Event queue.
extension LambdaAPI {
    func addEventInvokeConfigRoutes(to router: Router<LambdaRequestContext>) {
        let functions = router.group("2019-09-25/functions")
        functions.put(":name/event-invoke-config", use: putFunctionEventInvokeConfig)
        functions.post(":name/event-invoke-config", use: updateFunctionEventInvokeConfig)
        functions.get(":name/event-invoke-config", use: getFunctionEventInvokeConfig)
        functions.delete(":name/event-invoke-config", use: deleteFunctionEventInvokeConfig)
        functions.get(":name/event-invoke-config/list", use: listFunctionEventInvokeConfigs)
    }

    @Sendable func putFunctionEventInvokeConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        try await writeEventInvokeConfig(request, context, replacing: true)
    }

    @Sendable func updateFunctionEventInvokeConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        try await writeEventInvokeConfig(request, context, replacing: false)
    }

    private func writeEventInvokeConfig(_ request: Request, _ context: LambdaRequestContext, replacing: Bool) async throws -> Response {
        let id = try qualifiedIdentifier(request, context)
        let operation = replacing ? "PutFunctionEventInvokeConfig" : "UpdateFunctionEventInvokeConfig"
        let body = try await body(EventInvokeConfigBody.self, of: request, operation: operation)
        let change = EventInvokeConfig.Change(
            maximumRetryAttempts: body.MaximumRetryAttempts, maximumEventAgeInSeconds: body.MaximumEventAgeInSeconds,
            onSuccess: body.DestinationConfig?.OnSuccess.map { $0.Destination ?? "" },
            onFailure: body.DestinationConfig?.OnFailure.map { $0.Destination ?? "" })
        let scope = scope
        let audit = audit(operation, context, function: id.name, alias: id.qualifier.flatMap { if case .alias(let a) = $0 { a } else { nil } })
        let config = try await store.update(id.name, scope: scope, audit: audit) { function, changeContext in
            try function.putEventInvokeConfig(id.qualifier, change, replacing: replacing, scope: scope, at: changeContext.now)
        }
        return try json(EventInvokeConfigWire(config, function: id.name, qualifier: id.qualifier, scope: scope))
    }

    @Sendable func getFunctionEventInvokeConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try qualifiedIdentifier(request, context)
        let config = try store.registry.function(id.name, scope: scope).eventInvokeConfig(id.qualifier, scope: scope)
        return try json(EventInvokeConfigWire(config, function: id.name, qualifier: id.qualifier, scope: scope))
    }

    @Sendable func deleteFunctionEventInvokeConfig(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try qualifiedIdentifier(request, context)
        let scope = scope
        let audit = audit("DeleteFunctionEventInvokeConfig", context, function: id.name)
        try await store.update(id.name, scope: scope, audit: audit) { function, _ in
            try function.deleteEventInvokeConfig(id.qualifier, scope: scope)
        }
        return Response(status: .noContent)
    }

    @Sendable func listFunctionEventInvokeConfigs(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let query = request.uri.queryParameters
        let function = try store.registry.function(name, scope: scope)
        let qualifiers = function.eventInvokeConfigs.keys.sorted { $0.description < $1.description }
        let page = try Page.slice(qualifiers, key: \.description, marker: query.get("Marker"), maxItems: try maxItems(query))
        return try json(ListEventInvokeConfigsWire(
            FunctionEventInvokeConfigs: page.items.compactMap { qualifier in
                function.eventInvokeConfigs[qualifier].map { EventInvokeConfigWire($0, function: name, qualifier: qualifier, scope: scope) }
            },
            NextMarker: page.nextMarker))
    }
}

struct EventInvokeConfigBody: Decodable {
    var MaximumRetryAttempts: Int?
    var MaximumEventAgeInSeconds: Int?
    var DestinationConfig: DestinationConfigWire?
}

struct DestinationConfigWire: Codable {
    struct Target: Codable {
        var Destination: String?
    }

    var OnSuccess: Target?
    var OnFailure: Target?
}

struct EventInvokeConfigWire: Encodable {
    var LastModified: Double
    var FunctionArn: String
    var MaximumRetryAttempts: Int?
    var MaximumEventAgeInSeconds: Int?
    var DestinationConfig: DestinationConfigWire

    init(_ config: EventInvokeConfig, function: FunctionName, qualifier: Qualifier?, scope: AccountScope) {
        LastModified = Double(config.lastModified.millisecondsSince1970) / 1000
        FunctionArn = scope.functionARN(function, qualifier: LambdaFunction.eventInvokeKey(qualifier))
        MaximumRetryAttempts = config.maximumRetryAttempts
        MaximumEventAgeInSeconds = config.maximumEventAgeInSeconds
        DestinationConfig = DestinationConfigWire(
            OnSuccess: .init(Destination: config.onSuccess), OnFailure: .init(Destination: config.onFailure))
    }
}

struct ListEventInvokeConfigsWire: Encodable {
    var FunctionEventInvokeConfigs: [EventInvokeConfigWire]
    var NextMarker: String?
}
