import AviaryCore
import Foundation
import ZIPFoundation

/// Checks an uploaded zip before anything trusts it.
///
/// Every entry is inflated (without being written anywhere) so that CRCs are verified and the unzipped
/// size is counted from real bytes, not from headers that can lie. Refused: unreadable archives, entry
/// paths that are absolute or climb out with `..`, symlinks whose target leaves the archive root, and
/// archives over AWS's unzipped limit.
enum ArchiveInspector {
    static let maxUnzippedBytes: UInt64 = 262_144_000
    static let maxEntries = 100_000

    static let unzipFailure =
        "Could not unzip uploaded file. Please check your file, then try to upload again."

    static func check(zipAt url: URL, maxUnzippedBytes: UInt64 = maxUnzippedBytes) throws {
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw LambdaError.invalidParameterValue(unzipFailure)
        }
        var total: UInt64 = 0
        var count = 0
        for entry in archive {
            count += 1
            guard count <= maxEntries else {
                throw LambdaError.invalidParameterValue("\(unzipFailure) The archive has more than \(maxEntries) entries.")
            }
            let components = try safeComponents(of: entry.path)
            var symlinkTarget = Data()
            let crc: CRC32
            do {
                crc = try archive.extract(entry) { chunk in
                    total += UInt64(chunk.count)
                    guard total <= maxUnzippedBytes else { throw SizeExceeded() }
                    if entry.type == .symlink { symlinkTarget.append(chunk) }
                }
            } catch is SizeExceeded {
                throw LambdaError.invalidParameterValue("Unzipped size must be smaller than \(maxUnzippedBytes) bytes")
            } catch {
                throw LambdaError.invalidParameterValue(unzipFailure)
            }
            guard entry.type == .directory || crc == entry.checksum else {
                throw LambdaError.invalidParameterValue("\(unzipFailure) Entry '\(entry.path)' is corrupt (CRC mismatch).")
            }
            if entry.type == .symlink {
                try checkSymlink(at: components, target: String(decoding: symlinkTarget, as: UTF8.self), path: entry.path)
            }
        }
    }

    /// The path split into components, refusing anything that could land outside the extraction root.
    static func safeComponents(of path: String) throws -> [Substring] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !path.hasPrefix("/"), !path.contains("\\"), !path.contains("\0"), !components.isEmpty,
            !components.contains("..")
        else {
            throw LambdaError.invalidParameterValue(
                "\(unzipFailure) Entry '\(path)' has an absolute path or leaves the archive root.")
        }
        return components
    }

    /// A symlink is allowed only if its target, resolved from the link's own folder, stays inside the root.
    static func checkSymlink(at components: [Substring], target: String, path: String) throws {
        var resolved = Array(components.dropLast())
        var escapes = target.hasPrefix("/") || target.isEmpty || target.contains("\0")
        for part in target.split(separator: "/", omittingEmptySubsequences: true) where !escapes {
            switch part {
            case ".": continue
            case "..": if resolved.popLast() == nil { escapes = true }
            default: resolved.append(part)
            }
        }
        if escapes {
            throw LambdaError.invalidParameterValue(
                "\(unzipFailure) Symbolic link '\(path)' points outside the archive root ('\(target)').")
        }
    }

    private struct SizeExceeded: Error {}
}
