package io.pipelinelib

/**
 * Argument checks and the safe hand-over of arguments to the pipelinelib CLI.
 *
 * The steps never interpolate a value into shell text. Each argument travels in its own
 * environment variable (PL_ARG_0, PL_ARG_1, ...) and the shell script only references them,
 * double-quoted: the script text is built from the argument COUNT alone, so whatever a value
 * holds (quotes, $(...), ${...}, backticks, newlines) it reaches pipelinelib as one argv entry.
 *
 * Every check returns null when the value is fine, or the message to give to error().
 * The rules mirror /work/shared/CONTRACT.md; the CLI checks them again.
 */
class Args implements Serializable {
    private static final long serialVersionUID = 1L

    static final String SERVICE_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$'
    static final String STACK_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$'  // pipelinelib/orchestrate.py STACK_RE
    static final String REGION_PATTERN = '^[a-z]{2}(-[a-z]+)+-[0-9]$'
    static final String CLUSTER_PATTERN = '^[A-Za-z0-9_-]{1,255}$'
    static final String ASCII_BLANKS = '^[ \\t\\n\\r\\f\\u000B]+|[ \\t\\n\\r\\f\\u000B]+$'
    static final String DURATION_PATTERN = '^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$|^[0-9]+$'
    static final String RELATIVE_DIR_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$'
    static final List<String> ORCHESTRATE_COMMANDS = ['init', 'plan', 'apply', 'destroy', 'plan-destroy', 'output', 'validate',
                                                      'state', 'import', 'show', 'refresh', 'force-unlock', 'console']
    // The prefix of an old <KEY>_BUILD variable, e.g. SERVICE1 (publish-artifact --legacy-key).
    static final String LEGACY_KEY_PATTERN = '^[A-Z][A-Z0-9_]{0,62}$'
    static final String ENV_PREFIX = 'PL_ARG_'
    static final int MAX_JOB_NAME = 255
    private static final String JOB_FORBIDDEN = '?*/\\!@#$^&|<>[]:;'  // Jenkins.checkGoodName, less '%'
    private static final String NAME_ENCODER_RAW = '/?#[]\\'  // never raw in a NameEncoder name
    private static final List<Integer> NEVER_IN_A_NAME = [
        (int) Character.CONTROL, (int) Character.FORMAT, (int) Character.SURROGATE,
        (int) Character.LINE_SEPARATOR, (int) Character.PARAGRAPH_SEPARATOR,
    ]

    static String problemWithService(Object name) {
        if (!(name instanceof CharSequence) || !(name.toString() ==~ SERVICE_PATTERN)) {
            return "invalid service name ${describe(name)}: use 1-63 characters a-z, 0-9, '-' and '_', starting with a letter or digit"
        }
        return null
    }

    /**
     * Mirrors pipelinelib.model.validate_job_name (docs/formats.md "Job names"): every name
     * Jenkins makes is accepted (Jenkins.checkGoodName, multibranch NameEncoder's %2F escapes,
     * spaces, quotes, Unicode); lone surrogates, control, format (bidi, zero-width, BOM) and
     * line/paragraph separator characters and noncharacters are refused.
     */
    static String problemWithJob(Object name) {
        if (!(name instanceof CharSequence) || name.toString().isEmpty()) {
            return 'job name must not be empty'
        }
        String text = name.toString()
        if (text.length() > MAX_JOB_NAME) {
            return "job name is longer than ${MAX_JOB_NAME} characters"
        }
        for (String segment : text.split('/', -1)) {
            if (segment.isEmpty() || segment == '.' || segment == '..' || segment != segment.trim()) {
                return "invalid job name ${describe(name)}: empty, '.', '..' or space-padded folder segment"
            }
            int i = 0
            while (i < segment.length()) {
                int cp = segment.codePointAt(i)
                int type = Character.getType(cp)
                if (type in NEVER_IN_A_NAME || cp == 0xFFFE || cp == 0xFFFF) {
                    return "invalid job name ${describe(name)}: it holds the invisible or control character U+${String.format('%04X', cp)}"
                }
                i += Character.charCount(cp)
            }
            if (segment ==~ /.*%(?![0-9A-Fa-f]{2}).*/) {
                return "invalid job name ${describe(name)}: '%' is only allowed as an escape such as %2F (multibranch NameEncoder)"
            }
            String forbidden = segment.contains('%') ? NAME_ENCODER_RAW : JOB_FORBIDDEN
            for (int j = 0; j < segment.length(); j++) {
                char c = segment.charAt(j)
                if (forbidden.indexOf((int) c) >= 0) {
                    return "invalid job name ${describe(name)}: character ${describe(String.valueOf(c))} is not allowed"
                }
            }
        }
        return null
    }

    static String problemWithBuildNumber(Object value) {
        String text = value == null ? '' : value.toString().trim()
        if (!(text ==~ '^[0-9]{1,10}$') || text.toLong() < 1 || text.toLong() > Integer.MAX_VALUE) {
            return "build number must be a positive integer, not ${describe(value)}"
        }
        return null
    }

    /** A build selector: lastSuccessful, a number, or a choice string "12-Fix login". */
    static String problemWithSelector(Object value) {
        if (!(value instanceof CharSequence) || value.toString().trim().isEmpty()) {
            return 'no build selected: pick a build (BUILD_TO_DEPLOY) or give lastSuccessful'
        }
        String text = value.toString()
        if (text == 'lastSuccessful') {
            return null
        }
        int dash = text.indexOf('-')
        String number = dash < 0 ? text : text.substring(0, dash)
        if (problemWithBuildNumber(number) != null) {
            return "invalid build selector ${describe(value)}: expected lastSuccessful, NUMBER or NUMBER-SUBJECT"
        }
        return problemWithText(value, 'build selector')
    }

    /** Environment variables cannot carry NUL; everything else is passed as it is. */
    static String problemWithText(Object value, String what) {
        if (value == null) {
            return "${what} is missing"
        }
        if (value.toString().indexOf((int) 0) >= 0) {
            return "${what} contains a NUL character"
        }
        return null
    }

    /**
     * A duration as pipelinelib's --timeout takes it (pipelinelib/formats/duration.py): a number
     * of seconds, or hours/minutes/seconds such as 90s, 15m, 1h, 1h30m; units in any case,
     * blanks around ignored; more than zero.
     */
    static String problemWithDuration(Object value) {
        String text = value == null ? '' : value.toString().replaceAll(ASCII_BLANKS, '').toLowerCase(Locale.ROOT)
        if (text.isEmpty() || !(text ==~ DURATION_PATTERN)) {
            return "invalid duration ${describe(value)}: use a number of seconds or e.g. 90s, 15m, 1h, 1h30m"
        }
        if (!(text ==~ '.*[1-9].*')) {
            return "duration ${describe(value)} must be more than zero"
        }
        return null
    }

    static String problemWithPattern(Object value, String pattern, String what) {
        if (!(value instanceof CharSequence) || !(value.toString() ==~ pattern)) {
            return "invalid ${what} ${describe(value)}"
        }
        return null
    }

    static String problemWithOrchestrateCommand(Object value) {
        if (!(value in ORCHESTRATE_COMMANDS)) {
            return "unknown orchestrate command ${describe(value)}: use one of ${ORCHESTRATE_COMMANDS.join(', ')}"
        }
        return null
    }

    /**
     * Build overrides as people type them in the BUILD_OVERRIDES parameter, or as a list or map:
     * "service1=91, service2=45" (commas, spaces or new lines), ['service1=91'], [service1: 91].
     * Returns the normalised 'SERVICE=NUMBER' strings; throws IllegalArgumentException on bad input.
     */
    static List<String> overrides(Object value) {
        List<String> items = []
        if (value == null) {
            return items
        }
        if (value instanceof Map) {
            value.each { k, v -> items << "${k}=${v}".toString() }
        } else if (value instanceof Collection) {
            value.each { items << it.toString() }
        } else {
            value.toString().split('[,\\s]+').each { if (!it.isEmpty()) { items << it } }
        }
        List<String> result = []
        for (String item : items) {
            int eq = item.indexOf('=')
            String service = (eq < 0 ? item : item.substring(0, eq)).trim()
            String number = eq < 0 ? '' : item.substring(eq + 1)
            String problem = problemWithService(service) ?: problemWithBuildNumber(number)
            if (problem != null) {
                throw new IllegalArgumentException("invalid build override ${describe(item)}: ${problem}")
            }
            result << "${service}=${number.trim().toLong()}".toString()
        }
        return result
    }

    /** Job names from a list or from text separated by commas, spaces or new lines. */
    static List<String> jobs(Object value) {
        List<String> names = []
        if (value instanceof Collection) {
            value.each { names << it.toString() }
        } else if (value != null) {
            value.toString().split('[,\\s]+').each { if (!it.isEmpty()) { names << it } }
        }
        return names
    }

    /** The subject of a choice "12-Fix login" (what the old pipelines used as display name). */
    static String subjectOfChoice(String choice) {
        int dash = choice == null ? -1 : choice.indexOf('-')
        return dash < 0 ? '' : choice.substring(dash + 1)
    }

    /** withEnv entries carrying each argument: PL_ARG_0=..., PL_ARG_1=... */
    static List<String> envEntries(List args) {
        List<String> entries = []
        for (int i = 0; i < args.size(); i++) {
            entries << (ENV_PREFIX + i + '=' + args[i].toString())
        }
        return entries
    }

    /**
     * The shell text that runs pipelinelib with the arguments of envEntries. It is built from
     * the argument count alone and holds no value, e.g. pipelinelib "$PL_ARG_0" "$PL_ARG_1".
     */
    static String shellCommand(int count) {
        StringBuilder text = new StringBuilder('pipelinelib')
        for (int i = 0; i < count; i++) {
            text.append(' "$').append(ENV_PREFIX).append(i).append('"')
        }
        return text.toString()
    }

    /** A value shown in a message: single-quoted, control characters escaped, at most 80 chars. */
    static String describe(Object value) {
        if (value == null) {
            return 'null'
        }
        String text = value.toString()
        if (text.length() > 80) {
            text = text.substring(0, 80) + '...'
        }
        StringBuilder out = new StringBuilder("'")
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i)
            if (Character.isISOControl(c)) {
                out.append(String.format('\\x%02x', (int) c))
            } else {
                out.append(c)
            }
        }
        return out.append("'").toString()
    }
}
