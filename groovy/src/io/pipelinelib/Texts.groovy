package io.pipelinelib

/** Text built from untrusted values: Slack messages and build display names. */
class Texts implements Serializable {
    private static final long serialVersionUID = 1L

    static final int MAX_SUBJECT = 120

    /** Slack's three control characters (links, mentions, @channel) become plain text. */
    static String slackEscape(Object value) {
        if (value == null) {
            return ''
        }
        return value.toString().replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    }

    /** The first line of a text, control characters removed, at most 120 characters. */
    static String firstLine(Object value) {
        if (value == null) {
            return ''
        }
        String text = value.toString().trim()
        int end = text.length()
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i)
            if (c == '\n' as char || c == '\r' as char || c == '\u2028' as char || c == '\u2029' as char || c == '\u0085' as char) {
                end = i
                break
            }
        }
        StringBuilder out = new StringBuilder()
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i)
            if (!Character.isISOControl(c)) {
                out.append(c)
            }
        }
        String line = out.toString().trim()
        return line.length() > MAX_SUBJECT ? line.substring(0, MAX_SUBJECT) : line
    }

    /** Slack colour of a build status, as the old pipelines chose it. */
    static String colour(String status) {
        if (status == 'STARTED') {
            return '#FFFF00'
        }
        if (status == 'SUCCESS' || status == 'SUCCESSFUL') {
            return '#00FF00'
        }
        if (status == 'UNSTABLE') {
            return '#FFA500'
        }
        return '#FF0000'
    }

    /**
     * A deploy build's display name from the services it deployed, e.g.
     * "service1 #90 Fix login | service2 #45 Add cache". Each entry is [service:, build:, message:].
     */
    static String deployedSummary(List<Map> services) {
        List<String> parts = []
        for (Map s : services) {
            String subject = firstLine(s.message)
            parts << ("${s.service} #${s.build}" + (subject ? " ${subject}" : '')).toString()
        }
        String name = parts.join(' | ')
        return name.length() > MAX_SUBJECT ? name.substring(0, MAX_SUBJECT) : name
    }

    /**
     * The question an approver answers before a protected deploy: which deploy build, which
     * environment and cluster, the upstream build picked, every service with its build and
     * subject, and the overrides (or "none"). Subjects are first lines, at most 120 characters.
     * Keys: job, build, environment, cluster, upstream, choice, services ([service:, build:,
     * message:] maps), overrides (list of 'S=N').
     */
    static String approvalMessage(Map a) {
        List<String> lines = []
        lines << "Deploy ${a.job} #${a.build} to ${a.environment} (${a.cluster})?".toString()
        lines << "Build: ${a.upstream} ${firstLine(a.choice)}".toString()
        for (Map s : (a.services ?: [])) {
            String subject = firstLine(s.message)
            lines << ("  ${s.service} #${s.build}" + (subject ? " ${subject}" : '')).toString()
        }
        List overrides = a.overrides ?: []
        lines << ('Overrides: ' + (overrides ? overrides.join(', ') : 'none')).toString()
        return lines.join('\n')
    }
}
