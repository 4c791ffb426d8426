public import AviaryCore
public import AviaryEngine
public import AviaryRuntime
public import AviaryStore
public import Hummingbird
import Logging
import NIOCore

/// Builds the router with every route Aviary serves; with `auth`, every route but the public ones requires
/// credentials (see `AuthMiddleware`).
public func buildRouter(
    store: RegistryStore, code: CodeStore, runtime: FunctionRuntime, events: EventQueue, engine: DeploymentEngine,
    scope: AccountScope, auth: AuthKeys? = nil, approvalNetworks: [IPNetwork] = []
) -> Router<LambdaRequestContext> {
    let router = Router(context: LambdaRequestContext.self)
    router.add(middleware: AWSErrorMiddleware())
    // Before any route: Hummingbird applies a middleware only to the routes added after it.
    if let auth { router.add(middleware: AuthMiddleware(keys: auth, region: scope.region)) }
    router.get("health") { _, _ in "ok" }
    router.get("metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: runtime.metrics.prometheusText())))
    }
    let api = LambdaAPI(store: store, code: code, runtime: runtime, events: events, scope: scope)
    api.addRoutes(to: router)
    api.addURLRoutes(to: router)
    api.addEventInvokeConfigRoutes(to: router)
    FunctionURLs(api: api, authentication: auth.map { AuthMiddleware(keys: $0, region: scope.region) }).addRoutes(to: router)
    DeploymentsAPI(engine: engine, store: store).addRoutes(to: router)
    StickyRoutingAPI(store: store, scope: scope).addRoutes(to: router)
    AuditAPI(store: store).addRoutes(to: router)
    EnvironmentsAPI(store: store).addRoutes(to: router)
    ReleasesAPI(engine: engine, store: store).addRoutes(to: router)
    ApprovalPages(engine: engine, allowedNetworks: approvalNetworks).addRoutes(to: router)
    return router
}
