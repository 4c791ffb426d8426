import Foundation

/// One page of a listing with AWS's `Marker` / `NextMarker` / `MaxItems` semantics.
///
/// Markers are opaque to clients: the base64 of the key of the last item returned. A page holds at most
/// 50 items whatever `MaxItems` asks, as the service caps it.
public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
    public let items: [Item]
    public let nextMarker: String?

    public static var serviceLimit: Int { 50 }

    /// Cuts the page after `marker` from `items`, which must be sorted by `key` (unique keys).
    public static func slice(
        _ items: [Item], key: (Item) -> String, marker: String?, maxItems: Int?
    ) throws(LambdaError) -> Page {
        if let maxItems, !(1...10_000).contains(maxItems) {
            throw maxItems < 1
                ? .tooSmall(value: maxItems, field: "maxItems", min: 1)
                : .tooLarge(value: maxItems, field: "maxItems", max: 10_000)
        }
        let limit = min(maxItems ?? serviceLimit, serviceLimit)
        var start = items.startIndex
        if let marker, !marker.isEmpty {
            guard let data = Data(base64Encoded: marker), let after = String(data: data, encoding: .utf8) else {
                throw .invalidParameterValue("Invalid marker: \(marker)")
            }
            // Keys sort in listing order, so a page resumes correctly even if its last item was deleted since.
            start = items.firstIndex { key($0) > after } ?? items.endIndex
        }
        let end = min(start + limit, items.endIndex)
        let page = Array(items[start..<end])
        let next = end < items.endIndex ? page.last.map { Data(key($0).utf8).base64EncodedString() } : nil
        return Page(items: page, nextMarker: next)
    }
}
