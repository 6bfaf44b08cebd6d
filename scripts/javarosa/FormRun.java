// A scripted interview run by JavaRosa, the engine inside ODK Collect, as a reference for
// `fieldpost form run`. It reads an XForm (made by pyxform) and a list of steps, applies them,
// and prints the same lines `fieldpost form run` prints, so the two can be compared:
//   PATH<TAB>RELEVANT<TAB>VALUE   for every field in document order (paths under meta skipped)
//   ERROR<TAB>PATH<TAB>MESSAGE    for every required or constraint failure on a relevant field
// Exit 0 when the interview could be completed, 1 when not, 2 when the form or a step fails.
// With several steps files, one interview each in the same JVM: each one's lines, its messages
// as `==MESSAGE== TEXT` lines, then `==EXIT== CODE`.
//
// Steps file (written by scripts/javarosa_run.py from the JSON answers): one step per line,
// `set<TAB>PATH<TAB>VALUE`, `clear<TAB>PATH`, `add_row<TAB>REPEAT_PATH` or
// `remove_row<TAB>ROW_PATH`, select_multiple values space-separated. Paths as FieldPost writes
// them: a repeat row is `members[2]` (1-based; a segment without index means row 1).
//
// Collect's behaviour is imitated where JavaRosa leaves it to the app: before each step and
// at the end the form is walked from start to end with a FormEntryController, as an enumerator
// swipes through it, which creates the rows a repeat_count asks for; a select_multiple's ticks
// are stored in the choice list's order, as Collect's widget stores them.
//
// Compiled against the JavaRosa classes in pyxform's ODK_Validate.jar; no other dependency.

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.FormIndex;
import org.javarosa.core.model.GroupDef;
import org.javarosa.core.model.QuestionDef;
import org.javarosa.core.model.SelectChoice;
import org.javarosa.core.model.data.MultipleItemsData;
import org.javarosa.form.api.FormEntryController;
import org.javarosa.form.api.FormEntryModel;
import org.javarosa.core.model.condition.Constraint;
import org.javarosa.core.model.condition.EvaluationContext;
import org.javarosa.core.model.data.AnswerDataFactory;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.data.UncastData;
import org.javarosa.core.model.instance.FormInstance;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.model.instance.TreeReference;
import org.javarosa.core.services.PropertyManager;
import org.javarosa.core.services.locale.Localizer;
import org.javarosa.model.xform.XFormsModule;
import org.javarosa.model.xform.XPathReference;
import org.javarosa.xform.util.XFormUtils;
import org.opendatakit.validate.StubPropertyManager;

public class FormRun {
    private static final String MESSAGE_LANGUAGE = "English (en)";

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: FormRun FORM.xml STEPS.tsv [STEPS.tsv ...]");
            System.exit(2);
        }
        new XFormsModule().registerModule();
        PropertyManager.setPropertyManager(new StubPropertyManager());
        if (args.length == 2) {
            System.exit(run(args[0], args[1], System.out, System.err));
        }
        // Several interviews in one JVM (a start costs more than an interview): each one's
        // lines, its messages as `==MESSAGE== TEXT`, then `==EXIT== CODE`.
        for (int i = 1; i < args.length; i++) {
            java.io.ByteArrayOutputStream errBytes = new java.io.ByteArrayOutputStream();
            java.io.PrintStream err = new java.io.PrintStream(errBytes, true);
            int code = run(args[0], args[i], System.out, err);
            for (String m : errBytes.toString().split("\n")) {
                if (!m.isEmpty()) {
                    System.out.println("==MESSAGE== " + m);
                }
            }
            System.out.println("==EXIT== " + code);
        }
        System.exit(0);
    }

    /** One interview: prints its lines to `out`, problems to `err`; returns the exit code. */
    private static int run(String formPath, String stepsPath, java.io.PrintStream out, java.io.PrintStream err) {
        FormDef form;
        try {
            try (InputStream in = new FileInputStream(formPath)) {
                form = XFormUtils.getFormFromInputStream(in);
            }
            form.initialize(true, new InstanceInitializationFactory());
        } catch (Exception e) {
            err.println("cannot load " + formPath + ": " + e);
            return 2;
        }
        FormInstance instance = form.getMainInstance();
        String root = "/" + instance.getRoot().getName() + "/";
        List<String> lines;
        try {
            lines = Files.readAllLines(Paths.get(stepsPath), StandardCharsets.UTF_8);
        } catch (Exception e) {
            err.println("cannot read steps " + stepsPath + ": " + e);
            return 2;
        }
        int number = 0;
        for (String line : lines) {
            number++;
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\t", 3);
            try {
                walk(form, -1, null);
                apply(form, instance, root, parts);
            } catch (Exception e) {
                err.println("step " + number + " (" + line + "): " + e.getMessage());
                return 2;
            }
        }
        try {
            walk(form, -1, null);
        } catch (Exception e) {
            err.println("walking the form: " + e);
            return 2;
        }
        Localizer localizer = form.getLocalizer();
        if (localizer != null && localizer.hasLocale(MESSAGE_LANGUAGE)) {
            localizer.setLocale(MESSAGE_LANGUAGE);
        }
        List<String> errors = new ArrayList<>();
        print(form, instance, instance.getRoot(), "", localizer, errors, out);
        for (String error : errors) {
            out.println(error);
        }
        return errors.isEmpty() ? 0 : 1;
    }

    /** The instance element at a FieldPost path (`hh/members[2]/age`). */
    private static TreeElement find(FormInstance instance, String path) {
        TreeElement at = instance.getRoot();
        for (String seg : path.split("/")) {
            String name = seg;
            int row = 1;
            int open = seg.indexOf('[');
            if (open >= 0) {
                name = seg.substring(0, open);
                row = Integer.parseInt(seg.substring(open + 1, seg.length() - 1));
            }
            TreeElement next = at.getChild(name, row - 1);
            if (next == null) {
                throw new IllegalArgumentException("no field " + path + " (at " + seg + ")");
            }
            at = next;
        }
        return at;
    }

    /**
     * Steps through the form from its start as Collect does (which creates repeat_count rows);
     * with a target, stops at the event of that kind whose reference is the target and returns
     * its index (null when never reached).
     */
    private static FormIndex walk(FormDef form, int wanted, TreeReference target) {
        FormEntryController fec = new FormEntryController(new FormEntryModel(form));
        fec.jumpToIndex(FormIndex.createBeginningOfFormIndex());
        for (int guard = 0; guard < 200000; guard++) {
            int event = fec.stepToNextEvent();
            if (event == FormEntryController.EVENT_END_OF_FORM) {
                return null;
            }
            FormIndex index = fec.getModel().getFormIndex();
            if (target != null && event == wanted && target.equals(index.getReference())) {
                return index;
            }
            if (target == null && event == FormEntryController.EVENT_REPEAT && beyondCount(form, index)) {
                form.deleteRepeat(index);
                return walk(form, wanted, null);
            }
        }
        throw new IllegalStateException("the form never ends");
    }

    /**
     * A repeat_count row past the count. JavaRosa only ever adds such rows (the form's first
     * row stays when the count is blank, rows stay when the count goes down); ODK's web engine
     * and FieldPost keep exactly the count, which is what the form says. Removing them here
     * keeps that known JavaRosa limitation out of the comparison.
     */
    private static boolean beyondCount(FormDef form, FormIndex index) {
        if (!(form.getChild(index) instanceof GroupDef)) {
            return false;
        }
        GroupDef g = (GroupDef) form.getChild(index);
        if (!g.getRepeat() || g.getCountReference() == null) {
            return false;
        }
        TreeReference countRef = ((TreeReference) g.getCountReference().getReference())
            .contextualize(index.getReference());
        TreeElement count = form.getMainInstance().resolveReference(countRef);
        IAnswerData value = count == null ? null : count.getValue();
        int n = value == null ? 0 : org.javarosa.core.model.data.helper.AnswerDataUtil.answerDataToInt(value);
        return index.getReference().getMultLast() >= n;
    }

    private static void apply(FormDef form, FormInstance instance, String root, String[] parts)
            throws Exception {
        if (parts.length < 2) {
            throw new IllegalArgumentException("expected `set PATH VALUE`, `clear PATH`, `add_row PATH` or `remove_row PATH`");
        }
        switch (parts[0]) {
            case "add_row": {
                String path = parts[1];
                int slash = path.lastIndexOf('/');
                TreeElement parent = slash < 0 ? instance.getRoot() : find(instance, path.substring(0, slash));
                String name = (slash < 0 ? path : path.substring(slash + 1)).replaceAll("\\[.*", "");
                TreeReference target = parent.getRef().extendRef(name, parent.getChildMultiplicity(name));
                FormIndex index = walk(form, FormEntryController.EVENT_PROMPT_NEW_REPEAT, target);
                if (index == null) {
                    throw new IllegalArgumentException("no new-row prompt for " + path);
                }
                form.createNewRepeat(index);
                return;
            }
            case "remove_row": {
                TreeElement row = find(instance, parts[1]);
                FormIndex index = walk(form, FormEntryController.EVENT_REPEAT, row.getRef());
                if (index == null) {
                    throw new IllegalArgumentException("row " + parts[1] + " is not reached");
                }
                form.deleteRepeat(index);
                return;
            }
            default:
                break;
        }
        TreeElement element = find(instance, parts[1]);
        switch (parts[0]) {
            case "clear":
                form.setValue(null, element.getRef(), true);
                break;
            case "set":
                if (parts.length != 3) {
                    throw new IllegalArgumentException("set needs a value");
                }
                IAnswerData template = AnswerDataFactory.templateByDataType(element.getDataType());
                IAnswerData data = template.cast(new UncastData(inChoiceOrder(form, element, parts[2])));
                form.setValue(data, element.getRef(), true);
                break;
            default:
                throw new IllegalArgumentException("unsupported step " + parts[0]);
        }
    }

    /** A select_multiple's ticks in the order of its choice list, as Collect's widget saves them. */
    private static String inChoiceOrder(FormDef form, TreeElement element, String value) {
        QuestionDef q = FormDef.findQuestionByRef(element.getRef(), form);
        if (q == null || !(AnswerDataFactory.templateByDataType(element.getDataType()) instanceof MultipleItemsData)) {
            return value;
        }
        // pyxform writes every choice list as an itemset over a secondary instance.
        List<SelectChoice> choices = q.getDynamicChoices() != null
            ? q.getDynamicChoices().getChoices(form, element.getRef()) : q.getChoices();
        if (choices == null || choices.isEmpty()) {
            return value;
        }
        List<String> order = new ArrayList<>();
        for (SelectChoice c : choices) {
            order.add(c.getValue());
        }
        List<String> ticks = new ArrayList<>(java.util.Arrays.asList(value.trim().split("\\s+")));
        ticks.sort(java.util.Comparator.comparingInt(t -> {
            int at = order.indexOf(t);
            return at < 0 ? Integer.MAX_VALUE : at;
        }));
        return String.join(" ", ticks);
    }

    private static void print(FormDef form, FormInstance instance, TreeElement node, String path,
                              Localizer localizer, List<String> errors, java.io.PrintStream out) {
        for (int i = 0; i < node.getNumChildren(); i++) {
            TreeElement child = node.getChildAt(i);
            if (child.getMult() == TreeReference.INDEX_TEMPLATE) {
                continue;
            }
            String name = child.isRepeatable() ? child.getName() + "[" + (child.getMult() + 1) + "]" : child.getName();
            String childPath = path.isEmpty() ? name : path + "/" + name;
            if (child.getName().equals("meta")) {
                continue;
            }
            if (child.getNumChildren() > 0 || child.isRepeatable()) {
                print(form, instance, child, childPath, localizer, errors, out);
                continue;
            }
            boolean relevant = child.isRelevant();
            IAnswerData value = child.getValue();
            String text = (relevant && value != null) ? value.uncast().getString() : "";
            text = text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
            out.println(childPath + "\t" + (relevant ? 1 : 0) + "\t" + text);
            if (!relevant) {
                continue;
            }
            String xpath = "/" + instance.getRoot().getName() + "/" + childPath.replaceAll("\\[[0-9]+\\]", "");
            if (child.isRequired() && value == null) {
                errors.add("ERROR\t" + childPath + "\t" + message(localizer, xpath + ":jr:requiredMsg", "required"));
            }
            Constraint constraint = child.getConstraint();
            if (value != null && constraint != null) {
                EvaluationContext context = new EvaluationContext(form.getEvaluationContext(), child.getRef());
                if (!constraint.constraint.eval(instance, context)) {
                    errors.add("ERROR\t" + childPath + "\t"
                        + message(localizer, xpath + ":jr:constraintMsg", "constraint not met"));
                }
            }
        }
    }

    private static String message(Localizer localizer, String textId, String fallback) {
        if (localizer == null) {
            return fallback;
        }
        try {
            String text = localizer.getText(textId);
            return text == null ? fallback : text.trim().replace('\n', ' ');
        } catch (RuntimeException e) {
            return fallback;
        }
    }
}
