import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A JSON response of Aviary's own `/v1` API: keys sorted, so that output is stable for people and diffs.
func aviaryJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Response(
        status: status, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}
