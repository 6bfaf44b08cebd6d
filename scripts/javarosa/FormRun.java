// A scripted interview run by JavaRosa, the engine inside ODK Collect, as a reference for
// `fieldpost form run`. It reads an XForm (made by pyxform) and a list of steps, applies them,
// and prints the same lines `fieldpost form run` prints, so the two can be compared:
//   PATH<TAB>RELEVANT<TAB>VALUE   for every field in document order (paths under meta skipped)
//   ERROR<TAB>PATH<TAB>MESSAGE    for every required or constraint failure on a relevant field
// Exit 0 when the interview could be completed, 1 when not, 2 when the form or a step fails.
//
// Steps file (written by scripts/javarosa_run.py from the JSON answers): one step per line,
// `set<TAB>PATH<TAB>VALUE` or `clear<TAB>PATH`, select_multiple values space-separated.
// No repeats (the SIPAS form has none): add_row and remove_row are refused.
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
        if (args.length != 2) {
            System.err.println("usage: FormRun FORM.xml STEPS.tsv");
            System.exit(2);
        }
        FormDef form;
        try {
            new XFormsModule().registerModule();
            PropertyManager.setPropertyManager(new StubPropertyManager());
            try (InputStream in = new FileInputStream(args[0])) {
                form = XFormUtils.getFormFromInputStream(in);
            }
            form.initialize(true, new InstanceInitializationFactory());
        } catch (Exception e) {
            System.err.println("cannot load " + args[0] + ": " + e);
            System.exit(2);
            return;
        }
        FormInstance instance = form.getMainInstance();
        String root = "/" + instance.getRoot().getName() + "/";
        List<String> lines;
        try {
            lines = Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8);
        } catch (Exception e) {
            System.err.println("cannot read steps " + args[1] + ": " + e);
            System.exit(2);
            return;
        }
        int number = 0;
        for (String line : lines) {
            number++;
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\t", 3);
            try {
                apply(form, instance, root, parts);
            } catch (Exception e) {
                System.err.println("step " + number + " (" + line + "): " + e.getMessage());
                System.exit(2);
            }
        }
        Localizer localizer = form.getLocalizer();
        if (localizer != null) {
            localizer.setLocale(MESSAGE_LANGUAGE);
        }
        List<String> errors = new ArrayList<>();
        print(form, instance, instance.getRoot(), "", localizer, errors);
        for (String error : errors) {
            System.out.println(error);
        }
        System.exit(errors.isEmpty() ? 0 : 1);
    }

    private static void apply(FormDef form, FormInstance instance, String root, String[] parts) {
        if (parts.length < 2) {
            throw new IllegalArgumentException("expected `set PATH VALUE` or `clear PATH`");
        }
        TreeReference ref = XPathReference.getPathExpr(root + parts[1]).getReference();
        TreeElement element = instance.resolveReference(ref);
        if (element == null) {
            throw new IllegalArgumentException("no field " + parts[1]);
        }
        switch (parts[0]) {
            case "clear":
                form.setValue(null, element.getRef(), true);
                break;
            case "set":
                if (parts.length != 3) {
                    throw new IllegalArgumentException("set needs a value");
                }
                IAnswerData template = AnswerDataFactory.templateByDataType(element.getDataType());
                IAnswerData data = template.cast(new UncastData(parts[2]));
                form.setValue(data, element.getRef(), true);
                break;
            default:
                throw new IllegalArgumentException("unsupported step " + parts[0]);
        }
    }

    private static void print(FormDef form, FormInstance instance, TreeElement node, String path,
                              Localizer localizer, List<String> errors) {
        for (int i = 0; i < node.getNumChildren(); i++) {
            TreeElement child = node.getChildAt(i);
            String childPath = path.isEmpty() ? child.getName() : path + "/" + child.getName();
            if (child.getName().equals("meta")) {
                continue;
            }
            if (child.getNumChildren() > 0) {
                print(form, instance, child, childPath, localizer, errors);
                continue;
            }
            boolean relevant = child.isRelevant();
            IAnswerData value = child.getValue();
            String text = (relevant && value != null) ? value.uncast().getString() : "";
            text = text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
            System.out.println(childPath + "\t" + (relevant ? 1 : 0) + "\t" + text);
            if (!relevant) {
                continue;
            }
            String xpath = "/" + instance.getRoot().getName() + "/" + childPath;
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
