public import AviaryCore
public import AviaryStore
public import Hummingbird
import Logging

/// Builds the router with every route Aviary serves.
public func buildRouter(store: RegistryStore, code: CodeStore, scope: AccountScope) -> Router<LambdaRequestContext> {
    let router = Router(context: LambdaRequestContext.self)
    router.add(middleware: AWSErrorMiddleware())
    router.get("health") { _, _ in "ok" }
    LambdaAPI(store: store, code: code, scope: scope).addRoutes(to: router)
    return router
}
