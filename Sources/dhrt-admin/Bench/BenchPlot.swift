import Foundation

/// A hand-written SVG of a report: latency percentiles per setting (log scale) beside throughput bars.
struct BenchPlot {
    let report: BenchReport

    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"]
    private let width = 980.0
    private let height = 480.0
    private let latencyFrame = (x: 70.0, y: 100.0, w: 470.0, h: 300.0)
    private let barsFrame = (x: 650.0, y: 100.0, w: 300.0, h: 300.0)

    func svg() -> String {
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="20" y="30" font-size="18" font-weight="bold" fill="#222">\(escape(title))</text>
            <text x="20" y="52" font-size="12" fill="#555">\(escape(subtitle))</text>

            """
        out += latencyPanel()
        out += barsPanel()
        out += "</svg>\n"
        return out
    }

    private var title: String {
        "dhrt: latency and throughput by quorum setting (workload \(report.parameters.workload))"
    }

    private var subtitle: String {
        let p = report.parameters
        let length = p.durationSeconds.map { "\(BenchSession.format($0)) s" } ?? "\(p.ops ?? 0) ops"
        let mode = p.rate.map { "open loop \(Int($0)) ops/s" } ?? "closed loop"
        return "\(p.nodes.count) node(s), N=\(p.n), \(p.keys) keys \(p.distribution), \(p.valueSize) B values, "
            + "\(p.connections) connections, \(mode), \(length) per setting, \(p.rounds) round(s), \(p.cores) cores"
    }

    private func latencyPanel() -> String {
        let frame = latencyFrame
        let values = report.results.flatMap { $0.latencyMs.points.map(\.value) }.filter { $0 > 0 }
        let low = floor(log10(values.min() ?? 0.1))
        let high = max(ceil(log10(values.max() ?? 10)), low + 1)
        let labels = ["p50", "p90", "p99", "p99.9", "max"]
        let x = { (index: Int) in frame.x + 30 + Double(index) * (frame.w - 60) / Double(labels.count - 1) }
        let y = { (ms: Double) in frame.y + frame.h - (log10(max(ms, pow(10, low))) - low) / (high - low) * frame.h }
        var out = "<g class=\"latency\">\n"
        out += text(frame.x, frame.y - 12, "Latency (ms, log scale)", size: 14, weight: "bold")
        var decade = low
        while decade <= high {
            let tick = y(pow(10, decade))
            out += line(frame.x, tick, frame.x + frame.w, tick, stroke: "#e3e3e3")
            out += text(frame.x - 8, tick + 4, Self.number(pow(10, decade)), size: 11, anchor: "end", fill: "#555")
            decade += 1
        }
        for (index, label) in labels.enumerated() {
            out += line(x(index), frame.y, x(index), frame.y + frame.h, stroke: "#f0f0f0")
            out += text(x(index), frame.y + frame.h + 18, label, size: 12, anchor: "middle", fill: "#333")
        }
        out += line(frame.x, frame.y + frame.h, frame.x + frame.w, frame.y + frame.h, stroke: "#888")
        out += line(frame.x, frame.y, frame.x, frame.y + frame.h, stroke: "#888")
        for (index, result) in report.results.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let points = result.latencyMs.points.enumerated().map { (x($0.offset), y($0.element.value)) }
            let list = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
            out += "<polyline class=\"series\" data-setting=\"\(escape(result.setting))\" points=\"\(list)\" "
                + "fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.5\"/>\n"
            for (point, value) in zip(points, result.latencyMs.points) {
                out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" ", point.0, point.1)
                out += "fill=\"\(color)\">"
                out += "<title>\(escape(result.setting)) \(value.label): \(Self.number(value.value)) ms</title>"
                out += "</circle>\n"
            }
            let legendY = frame.y + frame.h + 44 + Double(index / 3) * 18
            let legendX = frame.x + Double(index % 3) * 165
            out += "<rect x=\"\(legendX)\" y=\"\(legendY - 9)\" width=\"14\" height=\"10\" fill=\"\(color)\"/>\n"
            out += text(legendX + 20, legendY, legendLabel(result), size: 12, fill: "#222")
        }
        return out + "</g>\n"
    }

    private func barsPanel() -> String {
        let frame = barsFrame
        let step = Self.niceStep(max(report.results.map(\.opsPerSec).max() ?? 1, 1) * 1.1 / 4)
        let top = step * 4
        let slot = frame.w / Double(max(report.results.count, 1))
        var out = "<g class=\"throughput\">\n"
        out += text(frame.x, frame.y - 12, "Throughput (ops/s)", size: 14, weight: "bold")
        for step in 0...4 {
            let value = top * Double(step) / 4
            let y = frame.y + frame.h - frame.h * Double(step) / 4
            out += line(frame.x, y, frame.x + frame.w, y, stroke: "#e3e3e3")
            out += text(frame.x - 8, y + 4, BenchReport.grouped(value), size: 11, anchor: "end", fill: "#555")
        }
        for (index, result) in report.results.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let barHeight = frame.h * result.opsPerSec / top
            let x = frame.x + Double(index) * slot + slot * 0.18
            let y = frame.y + frame.h - barHeight
            out += String(format: "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" ", x, y,
                slot * 0.64, barHeight)
            out += "fill=\"\(color)\" rx=\"3\"><title>\(escape(result.setting)): "
                + "\(BenchReport.grouped(result.opsPerSec)) ops/s</title></rect>\n"
            out += text(x + slot * 0.32, y - 6, BenchReport.grouped(result.opsPerSec), size: 11, anchor: "middle")
            out += text(x + slot * 0.32, frame.y + frame.h + 18, result.setting, size: 12, anchor: "middle")
        }
        out += line(frame.x, frame.y + frame.h, frame.x + frame.w, frame.y + frame.h, stroke: "#888")
        return out + "</g>\n"
    }

    private func legendLabel(_ result: BenchReport.Result) -> String {
        guard let r = result.r, let w = result.w else { return result.setting }
        return "\(result.setting) (R=\(r) W=\(w))"
    }

    private func text(
        _ x: Double, _ y: Double, _ content: String, size: Int, anchor: String = "start", weight: String = "normal",
        fill: String = "#222"
    ) -> String {
        String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" ", x, y, size)
            + "text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(escape(content))</text>\n"
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String) -> String {
        String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" ", x1, y1, x2, y2)
            + "stroke=\"\(stroke)\" stroke-width=\"1\"/>\n"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let power = pow(10, floor(log10(raw)))
        for factor in [1.0, 2, 2.5, 5, 10] where factor * power >= raw { return factor * power }
        return 10 * power
    }

    static func number(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())) }
        if value >= 1 { return String(format: "%g", (value * 10).rounded() / 10) }
        return String(format: "%g", (value * 1000).rounded() / 1000)
    }
}
