import AviaryCore
import AviaryStore
import Hummingbird

extension LambdaAPI {
    @Sendable func publishVersion(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let body = try await body(PublishVersionBody.self, of: request, operation: "PublishVersion")
        let (codeSha256, description, revisionId) = (body.CodeSha256, body.Description, body.RevisionId)
        let version = try await store.update(name, scope: scope, audit: audit("PublishVersion", context, function: name)) { function, context in
            try function.publishVersion(
                expectedCodeSha256: codeSha256, description: description, expectedRevisionId: revisionId,
                context: context)
        }
        return try json(wire(version, of: name), status: .created)
    }

    @Sendable func listVersionsByFunction(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let function = try store.registry.function(name, scope: scope)
        let selectors = [VersionSelector.latest] + function.sortedVersions.map { .published($0.number) }
        let query = request.uri.queryParameters
        let page = try Page.slice(
            selectors, key: \.listingKey, marker: query.get("Marker"), maxItems: try maxItems(query))
        return try json(
            ListVersionsWire(
                Versions: page.items.map { wire(function, $0).withoutState() }, NextMarker: page.nextMarker))
    }
}

extension FunctionConfigurationWire {
    /// Listings carry no State / LastUpdateStatus.
    func withoutState() -> FunctionConfigurationWire {
        var copy = self
        copy.State = nil
        copy.LastUpdateStatus = nil
        return copy
    }
}
