import AviaryCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// A JSON response of Aviary's own `/v1` API: keys sorted, so that output is stable for people and diffs.
func aviaryJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Response(
        status: status, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}

/// Decodes the JSON body of a `/v1` request of at most `limit` bytes (an empty body reads as `{}`), with
/// `/v1` errors: 413 `RequestTooLarge`, 400 `InvalidRequest` naming what could not be read.
func decodeAviaryBody<Body: Decodable>(_ type: Body.Type, of request: Request, limit: Int = 1024 * 1024) async throws -> Body {
    let buffer: ByteBuffer
    do {
        buffer = try await request.body.collect(upTo: limit)
    } catch is NIOTooManyBytesError {
        throw DeploymentError.tooLarge(limit: limit)
    }
    let data = buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer: buffer)
    do {
        return try JSONDecoder().decode(Body.self, from: data)
    } catch let error as DecodingError {
        throw DeploymentError.invalidRequest("could not read the request body: \(LambdaAPI.describe(error))")
    } catch {
        throw DeploymentError.invalidRequest("could not read the request body as JSON")
    }
}
