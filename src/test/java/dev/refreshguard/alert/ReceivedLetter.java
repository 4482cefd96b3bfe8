package dev.refreshguard.alert;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import jakarta.mail.Address;
import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;

import com.icegreen.greenmail.util.GreenMailUtil;

/** One email the test SMTP server received, decoded as a mail client shows it, plus its raw MIME text. */
record ReceivedLetter(List<String> to, String from, String subject, String text, String html, String raw) {

    static List<ReceivedLetter> of(MimeMessage[] messages) {
        List<ReceivedLetter> letters = new ArrayList<>();
        for (MimeMessage m : messages) {
            letters.add(of(m));
        }
        return letters;
    }

    static ReceivedLetter of(MimeMessage message) {
        try {
            List<String> to = Arrays.stream(message.getAllRecipients()).map(Address::toString).toList();
            String text = null;
            String html = null;
            if (message.getContent() instanceof Multipart multipart) {
                for (int i = 0; i < multipart.getCount(); i++) {
                    BodyPart part = multipart.getBodyPart(i);
                    if (part.isMimeType("text/plain")) {
                        text = (String) part.getContent();
                    } else if (part.isMimeType("text/html")) {
                        html = (String) part.getContent();
                    }
                }
            }
            return new ReceivedLetter(to, message.getFrom()[0].toString(), message.getSubject(), text, html,
                    GreenMailUtil.getWholeMessage(message));
        } catch (MessagingException | IOException e) {
            throw new AssertionError("unreadable message", e);
        }
    }

    boolean isTo(String address) {
        return to.contains(address);
    }

    /** Everything a reader or a mail archive could see of this letter. */
    String everything() {
        return String.join("\n", subject, String.valueOf(text), String.valueOf(html), raw);
    }
}
